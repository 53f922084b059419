"""`zoo analyze` from the command line: reports on disk, one-line errors that write nothing, and the
HTML page opened in a real headless browser."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

import zoo
from zoo.analysis import get_analyzer
from zoo.data import build_vocab, load_corpus


@pytest.fixture
def checkpoint(tmp_path, tiny_text):
    """A small LSTM checkpoint that records the text file it was 'trained' on."""
    corpus = load_corpus(str(tiny_text))
    vocab = build_vocab(corpus.splits()[0])
    torch.manual_seed(0)
    model = zoo.create_model("lstm-2x16", vocab_size=len(vocab), vocab=vocab)
    return zoo.save_checkpoint(model, tmp_path / "lstm-2x16.tiny", dataset=corpus.describe())


def test_analyze_writes_one_report_per_analyzer(zoo_cli, checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "cells,saturation",
                         "--cells", "1:3", "--set", "top=2", "--set", "saturation.right=0.8", "--quiet")
    assert code == 0, err
    for name in ("cells", "saturation"):
        folder = tmp_path / "reports" / "lstm-2x16.tiny" / name
        assert f"{name}: reports/lstm-2x16.tiny/{name}/report.html" in out
        record = json.loads((folder / "report.json").read_text())
        meta = record["meta"]
        assert meta["model"]["weights_sha256"] == json.loads((checkpoint / "config.json").read_text())["weights_sha256"]
        assert meta["data"]["split"] == "test"
        assert meta["data"]["name"] == "tiny.txt"
        assert meta["data"]["sha256"]
        assert (folder / "report.html").is_file()
        assert (folder / "arrays.npz").is_file()
    cells = json.loads((tmp_path / "reports/lstm-2x16.tiny/cells/report.json").read_text())
    assert cells["meta"]["params"]["top"] == 2
    assert cells["meta"]["params"]["cells"] == ["1:3"]
    assert len(cells["summary"]["features"]["after-space"]["top"]) == 2
    saturation = json.loads((tmp_path / "reports/lstm-2x16.tiny/saturation/report.json").read_text())
    assert saturation["meta"]["params"]["right"] == 0.8
    assert "top" not in saturation["meta"]["params"]
    assert "all reports of this model: reports/lstm-2x16.tiny/index.html" in out
    index = (tmp_path / "reports/lstm-2x16.tiny/index.html").read_text()
    assert 'href="cells/report.html"' in index
    assert 'href="saturation/report.html"' in index
    assert "Gate saturation" in index
    assert "weights " not in index

    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "connectivity", "--quiet",
                             "--set", "length=20")
    assert code == 0, err  # a later analysis joins the index, the earlier ones stay listed
    index = (tmp_path / "reports/lstm-2x16.tiny/index.html").read_text()
    assert index.count('<article class="card">') == 3
    assert 'href="connectivity/report.html"' in index


def test_the_index_leaves_a_users_page_alone_and_says_when_weights_differ(zoo_cli, checkpoint, tmp_path):
    text = ["--text", "the cat sat on the mat.\n" * 20, "--quiet"]
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation", "--out",
                             str(tmp_path / "one"), *text)
    assert code == 0
    assert "all reports" not in out
    assert not (tmp_path / "one" / "index.html").exists()

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "index.html").write_text("<p>my notes</p>")
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation,cells", "--out",
                             str(tmp_path / "mine"), *text)
    assert code == 0
    assert "is not a zoo index page: left as it is" in err
    assert (tmp_path / "mine" / "index.html").read_text() == "<p>my notes</p>"

    code, _, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation,cells", "--out",
                           str(tmp_path / "two"), *text)
    assert code == 0, err
    torch.manual_seed(1)  # the same name trained again: other weights
    model = zoo.create_model("lstm-2x16", vocab_size=len(zoo.load_checkpoint(checkpoint).vocab),
                             vocab=zoo.load_checkpoint(checkpoint).vocab)
    retrained = zoo.save_checkpoint(model, tmp_path / "again" / checkpoint.name)
    code, _, err = zoo_cli("analyze", "--model", str(retrained), "--analyzer", "cells", "--out", str(tmp_path / "two"),
                           "--set", "cells.top=1", *text)  # one analyzer with --out: into the folder named --out
    assert code == 1
    assert "holds files that are not a zoo report" in err
    code, _, err = zoo_cli("analyze", "--model", str(retrained), "--analyzer", "cells,connectivity", "--out",
                           str(tmp_path / "two"), "--set", "length=20", *text)
    assert code == 0, err
    index = (tmp_path / "two" / "index.html").read_text()
    assert index.count('<article class="card">') == 3
    assert "made from different weights" in index


def test_analyze_json_text_and_out(zoo_cli, checkpoint, tmp_path):
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation",
                         "--text", "the cat sat on the mat.\n" * 20, "--out", str(tmp_path / "mine"), "--json", "--quiet")
    assert code == 0, err
    data = json.loads(out)
    assert data["saturation"]["summary"]["characters"] == 480
    assert data["saturation"]["report"] == str(tmp_path / "mine" / "report.html")
    assert err == ""
    named = tmp_path / "story.txt"  # a file's name given to --text: analysed as written, and said so
    named.write_text("the cat sat on the mat.\n" * 20, encoding="utf-8")
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation", "--text", str(named),
                             "--out", str(tmp_path / "named"), "--json", "--quiet")
    assert code == 0
    assert json.loads(out)["saturation"]["summary"]["characters"] == len(str(named))
    assert err.startswith("note: --text analyses the")
    assert "pass it with --data" in err
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation", "--text", "the cat " * 40,
                             "--out", str(tmp_path / "long"), "--quiet")  # one line, longer than a file name may be
    assert code == 0, err
    assert err == "", err


def test_all_runs_every_analyzer_the_model_and_inputs_allow_and_names_the_others(zoo_cli, checkpoint, tmp_path):
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "all", "--text",
                             "the cat (sat) on the mat.\n" * 20, "--out", str(tmp_path / "all"), "--quiet")
    assert code == 0, err
    ran = sorted(p.name for p in (tmp_path / "all").iterdir() if p.is_dir())
    assert (tmp_path / "all" / "index.html").read_text().count('<article class="card">') == len(ran)
    assert {"cells", "saturation", "connectivity"} <= set(ran)
    assert (tmp_path / "all/cells/report.html").is_file()
    skipped = dict(line.removeprefix("zoo: skipped ").split(": ", 1) for line in err.splitlines())
    assert "needs the model's training split" in skipped["oracles"]  # --text: no training split
    assert "pass --reference" in skipped["char-probs"]
    assert "it needs words" in skipped["accuracy-by-known-chars"]
    assert sorted([*ran, *skipped]) == sorted(zoo.plugins.plugins().names("analyzer"))


def test_a_report_folder_holding_a_users_file_is_refused_before_any_work(zoo_cli, checkpoint, tmp_path):
    (tmp_path / "out" / "cells").mkdir(parents=True)
    (tmp_path / "out" / "cells" / "notes.txt").write_text("keep me")
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation,cells",
                             "--text", "the cat sat on the mat.\n" * 20, "--out", str(tmp_path / "out"), "--quiet")
    assert code == 1
    assert "holds files that are not a zoo report" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cells"]  # saturation did not run either
    assert (tmp_path / "out" / "cells" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("args, fragment", [
    (["--analyzer", "nope"], "unknown analyzer 'nope'"),
    (["--analyzer", "cells", "--set", "colour=red"], "no selected analyzer has a parameter 'colour'"),
    (["--analyzer", "cells", "--set", "top=many"], "cells.top='many': expected int"),
    (["--analyzer", "cells", "--cells", "7:1"], "cells: no layer or internal '7'"),
    (["--analyzer", "cells", "--cells", "1:16"], "unit 16 is out of range for layers.1.c (16 units: 0-15)"),
    (["--analyzer", "saturation", "--cells", "1:1"], "--cells is for the cells analyzer"),
    (["--analyzer", "saturation", "--data", "missing.txt"], "missing.txt"),
    # what an analyzer lacks is found before any analyzer runs, the first one included
    (["--analyzer", "cells,model-map", "--reference", "{checkpoint}"], "model-map places at least three models"),
    (["--analyzer", "cells,saturation", "--set", "left=0.9", "--set", "right=0.1"], "left (0.9) must be below right"),
    (["--analyzer", "cells,error-overlap", "--text", "the cat sat"], "compares with n-gram models fitted to the model's"),
    (["--analyzer", "cells,training-kl", "--reference", "{checkpoint}"], "training-kl follows a training run"),
    (["--analyzer", "saturation,cells", "--cells", "7:1"], "cells: no layer or internal '7'"),
    (["--analyzer", "saturation,cells", "--set", "features=quote,nope"], "unknown feature 'nope'"),
])
def test_bad_input_is_one_line_and_writes_nothing(zoo_cli, checkpoint, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), *[a.format(checkpoint=checkpoint) for a in args],
                             "--quiet")
    assert code == 1, err
    assert out == "", err
    assert err.count("\n") == 1, err
    assert fragment in err, err
    assert not (tmp_path / "reports").exists()
    assert not (tmp_path / "reports").exists()


def test_a_baseline_has_no_internals_to_analyse(zoo_cli, tmp_path, tiny_text, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = load_corpus(str(tiny_text))
    vocab, train, valid, _ = zoo.data.encoded_splits(corpus)
    from zoo.plugins import plugins

    plugins().get("baseline", "nnn").load().fit(train, vocab, order=2, directory=tmp_path / "nnn", epochs=1,
                                                  sections={"dataset": corpus.describe()}, progress=False)
    code, _, err = zoo_cli("analyze", "--model", str(tmp_path / "nnn"), "--analyzer", "saturation", "--quiet")
    assert code == 1
    assert "analyzer 'saturation' cannot run on this model: it needs gates" in err
    assert "trace" in err
    assert not (tmp_path / "reports").exists()


def test_the_bundled_model_is_analysed_with_no_network(zoo_cli, tmp_path):
    code, out, err = zoo_cli("analyze", "--model", "lstm-2x128.sample", "--analyzer", "saturation",
                         "--max-chars", "3000", "--out", str(tmp_path / "r"), "--quiet")
    assert code == 0, err
    record = json.loads((tmp_path / "r" / "report.json").read_text())
    assert record["meta"]["data"]["name"] == "sample"
    assert record["meta"]["model"]["name"] == "lstm-2x128.sample"
    assert [row["layer"] for row in record["summary"]["layers"]] == [0, 1]


def test_list_and_help_show_analyzer_parameters(zoo_cli):
    code, out, _ = zoo_cli("list", "--json")
    analyzers = {a["name"]: a for a in json.loads(out)["analyzers"]}
    assert analyzers["saturation"]["params"]["left"]["default"] == 0.1
    assert analyzers["saturation"]["requires"] == ["gates", "trace"]
    code, out, _ = zoo_cli("analyze", "--help")
    assert code == 0
    assert "left=0.1" in out
    assert "excerpt_length=1000" in out


# -- the page in a real browser --------------------------------------------------------------------

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def open_in_browser(page: Path, tmp_path: Path) -> tuple[str, str]:
    """The DOM after the page's scripts ran, and what the browser logged (console messages show
    as ``INFO:CONSOLE`` lines)."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--log-level=0",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


@pytest.fixture
def small(checkpoint, tmp_path, tiny_text):
    """A second, smaller model of the same data, to compare with."""
    corpus = load_corpus(str(tiny_text))
    vocab = build_vocab(corpus.splits()[0])
    torch.manual_seed(5)
    return zoo.save_checkpoint(zoo.create_model("lstm-1x4", vocab_size=len(vocab), vocab=vocab),
                               tmp_path / "small", dataset=corpus.describe())


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to open the report in: install Debian's chromium "
                                             "(`make setup` does, as root)")
def test_every_report_renders_in_a_real_browser(zoo_cli, small, tmp_path, tiny_text):
    from zoo.recipe import Recipe
    from zoo.trainer import train

    run_dir = tmp_path / "run"  # a real (short) run, with snapshots for training-kl
    train("lstm-2x16", load_corpus(str(tiny_text)), Recipe(max_epochs=1, batch_size=4, seq_length=20), run_dir,
          progress=False, log=lambda line: None, snapshot_every=100)
    shutil.copytree(small, tmp_path / "small-twin")  # model-map places three models
    analyzers = [n for n in zoo.plugins.plugins().names("analyzer")  # those for word models: test_autocomplete.py
                 if "words" not in get_analyzer(n).requires]
    code, _, err = zoo_cli("analyze", "--model", str(run_dir), "--analyzer", ",".join(analyzers), "--reference", str(small),
                           "--reference", str(tmp_path / "small-twin"), "--set", "excerpt_length=300",
                           "--set", "orders=1,2", "--set", "length=80", "--set", "sample=300",
                           "--out", str(tmp_path / "r"), "--quiet")
    assert code == 0, err
    pages = {}
    for name in analyzers:
        dom, log = open_in_browser(tmp_path / "r" / name / "report.html", tmp_path)
        assert "CONSOLE" not in log, (name, [line for line in log.splitlines() if "CONSOLE" in line])
        assert "<h1>" in dom
        assert "made by" in dom
        pages[name] = dom
    dom, log = open_in_browser(tmp_path / "r" / "index.html", tmp_path)  # links every page, shows their figures
    assert "CONSOLE" not in log
    assert dom.count('<article class="card">') == len(analyzers)
    links = set(re.findall(r'href="([^"]+)"', dom)) | set(re.findall(r'<img src="([^"]+)"', dom))
    assert len(links) >= 2 * len(analyzers) - 1, links
    assert all((tmp_path / "r" / link).is_file() for link in links), links
    assert "held: where on" in pages["ablation"]  # the effects table
    assert pages["ablation"].count('<img src="data:image/png;base64,') == 2
    panels = re.findall(r'<pre class="cell-text"[^>]*>(.*?)</pre>', pages["cells"], re.S)
    assert len(panels) >= 3  # one per non-constant feature, plus the cell picker
    coloured = re.findall(r'<span [^>]*background: rgb\((\d+), (\d+), (\d+)\)[^>]*>', panels[0])
    assert len(coloured) == 300
    assert len(set(coloured)) > 5
    assert 'id="pick-label" class="mono">0:0<' in pages["cells"]
    assert pages["saturation"].count('<img src="data:image/png;base64,') == 2
    assert "layers.1.f" in pages["saturation"]
    text = re.search(r'<pre class="conn-text"[^>]*>(.*?)</pre>', pages["connectivity"], re.S).group(1)
    lit = re.findall(r'<span [^>]*background: rgb\((\d+), (\d+), (\d+)\)[^>]*>', text)
    assert text.count("<span") == 80
    assert len(lit) == 41
    assert "prediction" in pages["connectivity"]
    assert text.count('class="selected"') == 1
    assert pages["oracles"].count('class="example"') > 0
    assert "Compared with small" in pages["oracles"]
    for name in ("error-overlap", "char-probs", "bracket-distance", "training-kl", "model-map", "line-ends"):
        assert '<img src="data:image/png;base64,' in pages[name]
    assert "By column" in pages["line-ends"]
    assert "model − small" in pages["line-ends"]
    assert pages["model-map"].count("<circle") == 3
    assert "KL to small" in pages["training-kl"]


def test_models_are_named_in_reports_by_name_or_by_path(zoo_cli, checkpoint, small, tmp_path, monkeypatch):
    """NAME=MODEL names a model; else its directory's name, or more of its path where two would
    repeat; reports go under the analysed model's name."""
    twin = tmp_path / "other" / small.name
    shutil.copytree(small, twin)
    monkeypatch.chdir(tmp_path)
    code, out, err = zoo_cli("analyze", "--model", f"big={checkpoint}", "--analyzer", "line-ends", "--reference",
                             f"tiny={small}", "--reference", str(twin), "--json", "--quiet")
    assert code == 0, err
    found = json.loads(out)["line-ends"]
    assert found["report"] == str(Path("reports") / "big" / "line-ends" / "report.html")
    assert list(found["summary"]["models"]) == ["model", "tiny", small.name]
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "line-ends", "--reference", str(small),
                             "--reference", str(twin), "--json", "--quiet")
    assert list(json.loads(out)["line-ends"]["summary"]["models"])[1:] == [small.name, f"other/{small.name}"]
    code, out, err = zoo_cli("eval", "--model", str(checkpoint), "--reference", f"tiny={small}", "--json")
    assert code == 0, err
    assert [row["model"] for row in json.loads(out)["references"]] == ["tiny"]
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "line-ends", "--reference", "tiny=nowhere")
    assert code == 1
    assert "nowhere" in err
    assert err.count("\n") == 1


def test_oracles_compare_two_models(zoo_cli, checkpoint, small, tmp_path):
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "oracles", "--reference", str(small),
                             "--set", "orders=1,2", "--out", str(tmp_path / "r"), "--json", "--quiet")
    assert code == 0, err
    summary = json.loads(out)["oracles"]["summary"]
    comparison = summary["comparison"]["small"]
    assert sum(row["reference"] for row in comparison["categories"]) == comparison["errors"]
    assert [row["model"] for row in comparison["categories"]] == [row["count"] for row in summary["categories"]]
    assert all(row["fixed_by_model"] <= row["reference"] for row in comparison["categories"])
    assert "Compared with small" in (tmp_path / "r" / "report.html").read_text()


def test_training_kl_follows_a_run_and_identical_models_have_kl_zero(zoo_cli, tmp_path, tiny_text):
    from zoo.recipe import Recipe
    from zoo.trainer import train

    run_dir = tmp_path / "run"
    train("lstm-1x8", load_corpus(str(tiny_text)), Recipe(max_epochs=2, batch_size=4, seq_length=20), run_dir,
          progress=False, log=lambda line: None, snapshot_every=60)
    steps = sorted(p.name for p in (run_dir / "steps").iterdir())
    assert steps
    assert all(int(s) % 60 == 0 for s in steps)
    same = run_dir / "steps" / steps[0]
    code, out, err = zoo_cli("analyze", "--model", str(run_dir), "--analyzer", "training-kl", "--reference", str(same),
                             "--set", "epochs=0", "--out", str(tmp_path / "kl"), "--json", "--quiet")
    assert code == 0, err
    rows = json.loads(out)["training-kl"]["summary"]["checkpoints"]
    assert [r["epoch"] for r in rows] == sorted(r["epoch"] for r in rows)
    assert len(rows) >= len(steps)
    itself = next(r for r in rows if r["checkpoint"] == steps[0])
    assert itself["kl"][steps[0]] == pytest.approx(0, abs=1e-6)
    assert itself["loss_difference"][steps[0]] == pytest.approx(0, abs=1e-6)
    assert all(r["kl"][steps[0]] > 1e-4 for r in rows if r["checkpoint"] != steps[0])
    code, _, err = zoo_cli("analyze", "--model", str(same), "--analyzer", "training-kl", "--reference", str(same), "--quiet")
    assert code == 1
    assert "follows a training run" in err


def test_model_map_places_identical_models_together(zoo_cli, checkpoint, small, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(checkpoint, twin)
    for method in ("pca", "tsne"):
        code, out, err = zoo_cli("analyze", "--models", str(tmp_path / "*"), "--analyzer", "model-map",
                                 "--set", f"method={method}", "--set", "sample=500", "--out", str(tmp_path / f"map-{method}"),
                                 "--json", "--quiet")
        assert code == 0, err
        points = {p["label"]: p for p in json.loads(out)["model-map"]["summary"]["models"]}
        assert set(points) == {"lstm-2x16.tiny", "small", "twin"}
        if method == "pca":
            assert points["twin"]["x"] == pytest.approx(points["lstm-2x16.tiny"]["x"], abs=1e-9)
            assert points["twin"]["loss"] == pytest.approx(points["lstm-2x16.tiny"]["loss"])


def test_a_later_analyzer_that_cannot_run_stops_all_before_any_work(zoo_cli, checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation,char-probs", "--quiet")
    assert code == 1
    assert "analyzer 'char-probs' compares with a reference model: pass --reference" in err
    assert not (tmp_path / "reports").exists()  # not even saturation's report


class _Crashes(zoo.Analyzer):
    """A third party's analyzer with a bug in its `run`."""

    name, requires = "crashes", frozenset()

    def run(self, model, data, **params):
        return {}["missing"]


class _BadTemplate(zoo.Analyzer):
    """A third party's analyzer whose report template does not parse."""

    name, requires = "bad-template", frozenset()

    def run(self, model, data, **params):
        return zoo.Report(self.name, summary={"n": 1})


@pytest.fixture
def broken_analyzers(tmp_path):
    from zoo.plugins import plugins

    template = tmp_path / "templates" / "bad.html.j2"
    template.parent.mkdir()
    template.write_text('{% extends "report.html.j2" %}{% block content %}{{ summary.n {% endblock %}')
    _BadTemplate.template = template

    class ThirdParty:
        @zoo.hookimpl
        def zoo_register_analyzers(self, register):
            register("crashes", _Crashes)
            register("bad-template", _BadTemplate)

    plugins.cache_clear()
    plugins().register(ThirdParty(), "third-party")
    yield
    plugins.cache_clear()


@pytest.mark.parametrize("name, fragment", [
    ("crashes", "analyzer 'crashes' from plugin 'third-party' failed: KeyError: 'missing'"),
    ("bad-template", "analyzer 'bad-template' from plugin 'third-party' failed: TemplateSyntaxError"),
])
def test_a_broken_third_party_analyzer_is_one_line_naming_its_plugin(zoo_cli, checkpoint, tmp_path, monkeypatch,
                                                                      broken_analyzers, name, fragment):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_PLUGIN_TRACEBACK", raising=False)
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", name, "--text", "the cat sat.", "--quiet")
    assert code == 1, err
    assert err.count("\n") == 1, err
    assert fragment in err, err
    assert "ZOO_PLUGIN_TRACEBACK=1" in err, err
    assert not (tmp_path / "reports").exists()
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation", "--text", "the cat sat.",
                             "--quiet")
    assert code == 0, err  # the rest of the zoo is untouched


def test_one_failing_analyzer_leaves_the_others_to_run_and_be_indexed(zoo_cli, checkpoint, tmp_path, broken_analyzers):
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "crashes,saturation", "--text",
                             "the cat sat.", "--out", str(tmp_path / "r"), "--quiet")
    assert code == 1
    assert err.splitlines() == [
        "zoo: error: analyzer 'crashes' from plugin 'third-party' failed: KeyError: 'missing' "
        "(ZOO_PLUGIN_TRACEBACK=1 shows where)",
        "zoo: error: 1 of 2 analyzers failed (crashes); the reports of the others are written"]
    assert (tmp_path / "r/saturation/report.html").is_file()  # it ran after the failure
    assert not (tmp_path / "r/crashes").exists()
    assert 'href="saturation/report.html"' in (tmp_path / "r/index.html").read_text()


def test_a_report_that_cannot_be_written_is_one_line(zoo_cli, checkpoint, tmp_path):
    (tmp_path / "a-file").write_text("mine\n")
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "saturation", "--text", "the cat sat.",
                             "--out", str(tmp_path / "a-file" / "report"), "--quiet")
    assert code == 1, err
    assert err.count("\n") == 1, err
    assert f"cannot write the report to {tmp_path / 'a-file' / 'report'}" in err, err
    assert (tmp_path / "a-file").read_text() == "mine\n"


def test_references_that_share_a_folder_name_keep_apart(zoo_cli, checkpoint, tmp_path):
    for parent in ("a", "b"):
        shutil.copytree(checkpoint, tmp_path / parent / "m")
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "char-probs", "--reference",
                             str(tmp_path / "a" / "m"), "--reference", str(tmp_path / "b" / "m"),
                             "--text", "the cat sat on the mat.\n" * 20, "--out", str(tmp_path / "out"), "--json", "--quiet")
    assert code == 0, err
    assert sorted(json.loads(out)["char-probs"]["summary"]["references"]) == ["b/m", "m"]


def test_a_zoo_home_that_cannot_be_written_is_one_line(zoo_cli, checkpoint, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("keep me")
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "afile"))  # the n-gram models' cache cannot be made there
    code, out, err = zoo_cli("analyze", "--model", str(checkpoint), "--analyzer", "oracles", "--out",
                             str(tmp_path / "out"), "--quiet")
    assert code == 1
    assert err.startswith("zoo: error: cannot make the n-gram cache folder")
    assert err.count("\n") == 1
    assert err.rstrip().endswith("set ZOO_HOME to a folder you can write")
    assert not (tmp_path / "out").exists()
