"""Checkpoints on the Hub, against a real Hub-protocol server on loopback (olah serving git
repositories), never the internet. Every command runs in a subprocess, as huggingface_hub reads
HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE when it is imported."""

import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import zoo
import zoo.hub
from zoo.checkpoint import CONFIG, WEIGHTS
from zoo.registry import PRETRAINED

OLAH = shutil.which("olah-cli") or str(Path(sys.executable).parent / "olah-cli")
pytestmark = pytest.mark.skipif(not Path(OLAH).exists(), reason="olah (the loopback Hub server) is not installed: "
                                                                 "pip install -e '.[test]'")


def _commit(folder: Path, files: dict[str, bytes]) -> str:
    folder.mkdir(parents=True)
    for name, data in files.items():  # names may hold folders: analyses/<analyzer>/report.json
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    git = ["git", "-C", str(folder), "-c", "user.email=zoo@example.org", "-c", "user.name=zoo"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "checkpoint"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """An olah server on a free loopback port, serving three model repositories."""
    root = tmp_path_factory.mktemp("hub")
    weights = (PRETRAINED / "lstm-2x128.sample" / WEIGHTS).read_bytes()
    config = (PRETRAINED / "lstm-2x128.sample" / CONFIG).read_bytes()
    corrupt = json.loads(config)
    corrupt["weights_sha256"] = "0" * 64
    revisions = {
        "good": _commit(root / "mirrors/models/alice/tiny", {WEIGHTS: weights, CONFIG: config, "README.md": b"# tiny\n"}),
        "corrupt": _commit(root / "mirrors/models/alice/corrupt", {WEIGHTS: weights, CONFIG: json.dumps(corrupt).encode()}),
        "pickle": _commit(root / "mirrors/models/alice/pickled", {"pytorch_model.bin": b"\x80\x02}q\x00.", CONFIG: config}),
    }
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (root / "repos").mkdir()
    (root / "config.toml").write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\nmirrors-path = ["{root / "mirrors"}"]\nrepos-path = "{root / "repos"}"\n'
        '\n[accessibility]\noffline = true\n')
    server = subprocess.Popen([OLAH, "-c", str(root / "config.toml")], cwd=root, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded wait for the server to answer
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.2)
        yield {"endpoint": endpoint, "revisions": revisions, "root": root}
    finally:
        server.terminate()
        server.wait(timeout=30)


def zoo_cmd(hub, home: Path, *args, offline=False, cwd=None):
    env = {**os.environ, "HF_ENDPOINT": hub["endpoint"], "HF_HOME": str(home), "HF_HUB_DISABLE_TELEMETRY": "1"}
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, env=env, timeout=300,
                          cwd=cwd)


def test_pull_at_a_pinned_revision_then_offline(hub, tmp_path, monkeypatch):
    rev = hub["revisions"]["good"]
    pulled = zoo_cmd(hub, tmp_path, "pull", f"alice/tiny@{rev}")
    assert pulled.returncode == 0, pulled.stderr
    where = Path(pulled.stdout.strip())
    assert where.parent.name == "snapshots"
    assert where.name == rev
    assert (where / WEIGHTS).is_file()
    before = {p.name: p.stat().st_mtime_ns for p in where.iterdir()}
    evaluated = zoo_cmd(hub, tmp_path, "eval", "--model", f"hf:alice/tiny@{rev}", "--json", "--resamples", "0", offline=True)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["characters"] > 1000
    assert {p.name: p.stat().st_mtime_ns for p in where.iterdir()} == before  # nothing written into the cache
    analysed = zoo_cmd(hub, tmp_path, "analyze", "--model", f"hf:alice/tiny@{rev}", "--analyzer", "saturation",
                       "--max-chars", "2000", "--quiet", offline=True, cwd=tmp_path)
    assert analysed.returncode == 0, analysed.stderr  # one folder for the checkpoint, not hf:alice/ and a subfolder
    assert analysed.stdout.splitlines() == [f"saturation: reports/hf-alice-tiny@{rev}/saturation/report.html",
                                            f"all reports of this model: reports/hf-alice-tiny@{rev}/index.html"]
    by_path = zoo_cmd(hub, tmp_path, "eval", "--model", str(where), "--json", "--resamples", "0", offline=True)
    assert by_path.returncode == 0, by_path.stderr  # the path `zoo pull` printed: still the cache's
    assert {p.name: (p.is_symlink(), p.stat().st_mtime_ns) for p in where.iterdir()} == {
        name: (True, mtime) for name, mtime in before.items()}
    described = zoo_cmd(hub, tmp_path, "pull", f"alice/tiny@{rev}", "--json", offline=True)
    assert described.returncode == 0, described.stderr
    record = json.loads(described.stdout)
    assert (record["path"], record["commit"]) == (str(where), rev)
    assert record["weights_sha256"] == json.loads((where / "config.json").read_text())["weights_sha256"]
    described = zoo_cmd(hub, tmp_path, "info", f"hf:alice/tiny@{rev}", offline=True)
    assert described.returncode == 0, described.stderr
    assert described.stdout.startswith(f"{where}\n"), described.stderr
    assert "  weights      verified" in described.stdout
    named = zoo_cmd(hub, tmp_path, "pull", "alice", offline=True)  # a user's name without the repository
    assert named.returncode == 1
    assert named.stderr.rstrip().endswith("a Hub repository is pulled as ORG/NAME@REVISION")
    missing = zoo_cmd(hub, tmp_path, "pull", "alice/other@" + rev, offline=True)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1
    assert "is not in the Hugging Face cache and cannot be downloaded (ZOO_OFFLINE or HF_HUB_OFFLINE is set)" in \
        missing.stderr
    monkeypatch.setenv("ZOO_OFFLINE", "1")  # the zoo's own switch keeps the Hub's downloads off too
    missing = zoo_cmd(hub, tmp_path, "pull", "alice/other@" + rev)
    cached = zoo_cmd(hub, tmp_path, "pull", f"alice/tiny@{rev}", "--json")
    assert missing.returncode == 1
    assert "cannot be downloaded (ZOO_OFFLINE or HF_HUB_OFFLINE is set)" in missing.stderr
    assert cached.returncode == 0, cached.stderr


@pytest.mark.parametrize("spec, fragment", [
    ("alice/corrupt@{corrupt}", "model.safetensors does not match its sha256"),
    ("alice/pickled@{pickle}", "has only pickled weights (pytorch_model.bin), which zoo never loads"),
    ("alice/nothing@{good}", "no such repository or revision on the Hub"),
    ("alice/tiny@" + "0" * 40, "alice/tiny@0000000000000000000000000000000000000000: no such repository or revision"),
])
def test_bad_pulls_are_one_line(hub, tmp_path, spec, fragment):
    result = zoo_cmd(hub, tmp_path, "pull", spec.format(**hub["revisions"]))
    assert result.returncode == 1, result.stderr
    assert result.stdout == "", result.stderr
    assert fragment in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_push_publishes_weights_config_and_card_without_local_paths(tmp_path):
    run = tmp_path / "run"
    model = zoo.create_model("gru-1x8", vocab=zoo.Vocab(list("abcdef")))
    zoo.save_checkpoint(model, run, dataset={"name": "notes.txt", "source": "/home/alice/notes.txt", "sha256": "f" * 64,
                                             "characters": 1234, "split": [0.8, 0.1, 0.1], "line_endings": "lf"},
                        metrics={"valid_nats": 1.5, "epoch": 3, "test_nats": 1.4})
    result = subprocess.run([sys.executable, "-m", "zoo", "push", str(run), "--repo-id", "alice/gru-notes", "--dry-run",
                             "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [f["path"] for f in plan["files"]] == ["model.safetensors", "config.json", "README.md"]
    from zoo.hub import prepare

    upload = prepare(run, "alice/gru-notes")
    published = json.loads(upload.files["config.json"])
    assert published["dataset"]["source"] == "notes.txt"
    assert "/home/alice" not in upload.files["config.json"].decode()
    assert "training" not in published
    card = plan["card"]
    assert card.startswith("---\nlibrary_name: rnn-zoo\n")
    assert "- rnn-zoo\n- gru\n" in card
    assert "value: 1.4" in card
    from huggingface_hub import ModelCard

    assert "&id" not in card  # plain YAML, no anchors
    metadata = ModelCard(card).data  # as the Hub's own client reads it
    assert metadata.library_name == "rnn-zoo"
    assert "gru" in metadata.tags
    assert metadata.license == "mit"
    assert metadata.datasets == ["notes"]  # an identifier, not the file's name
    assert {(r.dataset_split, r.metric_type, r.metric_value) for r in metadata.eval_results} == {
        ("test", "cross-entropy", 1.4), ("validation", "cross-entropy", 1.5)}
    assert "zoo eval --model hf:alice/gru-notes@<revision>" in card


def test_the_card_cites_the_figure_its_registry_model_reproduces(tmp_path):
    """A run trained as a registry entry with a reference: the card names the paper's table and
    sets its figure beside the checkpoint's own; another entry's shape is refused."""
    from zoo.hub import model_card, prepare

    run = tmp_path / "run"
    model = zoo.create_model("gru-3x75", vocab=zoo.Vocab(list("abcdef")))
    zoo.save_checkpoint(model, run / "epochs" / "0001", dataset={"name": "warpeace.txt", "split": [0.8, 0.1, 0.1]},
                        metrics={"valid_nats": 1.5, "epoch": 1, "test_nats": 1.25})
    (run / "run.json").write_text(json.dumps({"model": "gru-3x75.warpeace", "best": "epochs/0001", "last": "epochs/0001"}))
    card = prepare(run, "alice/gru").card
    assert "## Reproduces" in card
    assert "Table 1: `gru-3x75.warpeace`, 3 layers of 75 GRU units" in card
    assert "the 64 column" in card
    assert "The paper's test cross-entropy: 1.472 nats/char; this model's: 1.2500." in card
    assert prepare(run / "epochs" / "0001", "alice/gru").card == card  # an epoch of the run is the same model
    from huggingface_hub import ModelCard

    assert ModelCard(card).data.datasets == ["warpeace"]  # the registry's name for the text, not warpeace.txt
    result = subprocess.run([sys.executable, "-m", "zoo", "push", str(run), "--repo-id", "alice/gru", "--dry-run",
                             "--reproduces", "lstm-3x64.warpeace"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "is a 3x75 gru, not lstm-3x64.warpeace" in result.stderr

    words = {"model": {"arch": "gru", "layers": 2, "hidden": 600, "task": "autocomplete", "classes": 16386},
             "metrics": {"test_nats": 2.5, "test_accuracy": 0.45}}
    cited = model_card(words, "alice/ac", reproduces={"model": "gru-2x600.text8", "arch": "gru", "layers": 2, "hidden": 600,
                                                      "dataset": "text8", "citation": "Madsen (2019)", "budget": None,
                                                      "test_ce": 2.117, "accuracy": 0.5201})
    assert ("The paper's test word-level cross-entropy: 2.117 nats per scored character, accuracy 52.01%; "
            "this model's: 2.5000, 45.00%.") in cited
    assert "the rate multiplied" not in cited
    recipe = {**dataclasses.asdict(zoo.get_task("autocomplete").recipe()), "max_epochs": 20}
    assert "passes; kept" in model_card({**words, "recipe": recipe}, "alice/ac")  # Adam's rate stays as it is
    decayed = model_card({**words, "recipe": {**recipe, "lr_decay": 0.95}}, "alice/ac")  # the paper's decay, kept by --resume
    assert "20 passes, the rate multiplied by 0.95 each pass after pass 10; kept" in decayed


def test_no_reproduces_section_outside_a_run_or_for_other_text(tmp_path):
    from zoo.hub import prepare

    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab=zoo.Vocab(list("abcdef"))), tmp_path / "ckpt")
    assert "## Reproduces" not in prepare(tmp_path / "ckpt", "alice/gru").card
    run = tmp_path / "run"  # the registry's War and Peace shape, trained on someone's notes
    zoo.save_checkpoint(zoo.create_model("gru-3x75", vocab=zoo.Vocab(list("abcdef"))), run / "epochs" / "0001",
                        dataset={"name": "notes.txt", "split": [0.8, 0.1, 0.1]})
    (run / "run.json").write_text(json.dumps({"model": "gru-3x75.warpeace", "best": "epochs/0001", "last": "epochs/0001"}))
    assert "## Reproduces" not in prepare(run, "alice/gru").card
    assert "## Reproduces" in prepare(run, "alice/gru", model_name="gru-3x75.warpeace").card  # the user says so


def test_a_hub_ready_folder_publishes_its_own_card(tmp_path):
    """A folder `--to-dir` wrote, its card edited since, publishes that card as it is; published
    to another repository, or with --reproduces, it gets a new card."""
    from zoo.hub import prepare, save

    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab=zoo.Vocab(list("abcdef"))), tmp_path / "ckpt")
    folder = tmp_path / "folder"
    save(prepare(tmp_path / "ckpt", "alice/gru"), folder)
    written = (folder / "README.md").read_text()
    assert prepare(folder, "alice/gru").card == written
    (folder / "README.md").write_text(written.replace("# gru\n", "# gru\n\nMy own words.\n"))
    assert "My own words." in prepare(folder, "alice/gru").card
    elsewhere = prepare(folder, "bob/gru").card
    assert "My own words." not in elsewhere
    assert "hf:bob/gru@" in elsewhere
    assert "hf:alice/gru@" not in elsewhere
    result = subprocess.run([sys.executable, "-m", "zoo", "push", str(folder), "--repo-id", "alice/gru", "--dry-run",
                             "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "My own words." in json.loads(result.stdout)["card"]
    for flags, kept in [([], True), (["--overwrite-card"], False)]:  # in place: a new card only when told
        result = subprocess.run([sys.executable, "-m", "zoo", "push", str(folder), "--repo-id", "bob/gru", "--to-dir",
                                 str(folder), *flags], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert ("My own words." in (folder / "README.md").read_text()) == kept


def test_a_folder_of_other_weights_keeps_no_card_that_no_longer_fits(tmp_path):
    """Exporting a second model into the first one's folder would keep the first card beside the
    second weights: refused in one line, unless the card is to be replaced too."""
    from zoo.hub import prepare, save

    vocab = zoo.Vocab(list("abcdef"))
    for name, arch in (("one", "gru-1x8"), ("two", "lstm-1x8")):
        zoo.save_checkpoint(zoo.create_model(arch, vocab=vocab), tmp_path / name)
    folder = tmp_path / "folder"
    save(prepare(tmp_path / "one", "alice/m"), folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(zoo.ZooError, match="holds the export of other weights, whose card"):
        save(prepare(tmp_path / "two", "alice/m"), folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    save(prepare(tmp_path / "two", "alice/m"), folder, overwrite_card=True)
    assert "lstm" in (folder / "README.md").read_text()
    assert zoo.read_config(folder)["model"]["arch"] == "lstm"
    save(prepare(tmp_path / "two", "alice/m"), folder)  # the same weights again: the card stays


def test_analyses_are_published_with_the_weights_they_were_made_from(tmp_path):
    """`--reports` adds each report's numbers and figures under analyses/, shown in the card, with
    no local path in them; a Hub-ready folder publishes them again; reports of other weights and
    folders that hold no report are refused in one line."""
    from zoo.hub import prepare, save

    vocab = zoo.Vocab(list("abcdef "))
    zoo.save_checkpoint(zoo.create_model("lstm-1x8", vocab=vocab), tmp_path / "ckpt")
    reports = tmp_path / "reports"
    made = subprocess.run([sys.executable, "-m", "zoo", "analyze", "--model", str(tmp_path / "ckpt"), "--analyzer",
                           "saturation,connectivity", "--text", "abc def fed cab " * 20, "--set", "length=20",
                           "--out", str(reports), "--quiet"], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    upload = prepare(tmp_path / "ckpt", "alice/lstm", reports=reports)
    figures = {name for name in upload.files if name.endswith(".png")}
    assert {"analyses/saturation/report.json", "analyses/connectivity/report.json",
            "analyses/saturation/saturation.png"} <= set(upload.files)
    assert len(figures) >= 3
    assert not any(name.endswith((".html", ".npz")) for name in upload.files)  # the pages show local paths
    for name, data in upload.files.items():
        assert str(tmp_path).encode() not in data, name
    record = json.loads(upload.files["analyses/saturation/report.json"])
    assert record["summary"] == json.loads((reports / "saturation/report.json").read_text())["summary"]
    assert "checkpoint" not in record["meta"]["model"]
    assert record["files"]["figures"]
    from zoo.hub import _without_local_paths  # paths lose their folders; code such as "/* x */" is not a path

    assert _without_local_paths({"ngram_models": ["/home/a/runs/ngram-5", "C:\\runs\\n"], "text": "/* x */"}) == {
        "ngram_models": ["ngram-5", "n"], "text": "/* x */"}
    assert "## Analyses" in upload.card
    assert "Gate saturation" in upload.card
    assert set(re.findall(r"!\[[^]]*\]\(([^)]+)\)", upload.card)) == figures  # every figure shown, from the repository

    folder = tmp_path / "folder"
    save(upload, folder)
    assert prepare(folder, "alice/lstm").files == upload.files  # the Hub-ready folder publishes them again

    plain = tmp_path / "plain"  # a Hub-ready folder without analyses, its card edited: analyses added in place
    save(prepare(tmp_path / "ckpt", "alice/lstm"), plain)
    (plain / "README.md").write_text((plain / "README.md").read_text().replace("## Training", "My own words.\n\n## Training"))
    config = (plain / "config.json").read_bytes()
    for _ in range(2):  # twice: the section is replaced, not added again
        added = subprocess.run([sys.executable, "-m", "zoo", "push", str(plain), "--repo-id", "alice/lstm", "--reports",
                                str(reports), "--to-dir", str(plain)], capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
    card = (plain / "README.md").read_text()
    assert "My own words." in card
    assert card.count("## Analyses") == 1
    assert card.index("## Analyses") < card.index("## Use")
    assert (plain / "config.json").read_bytes() == config
    assert (plain / "analyses/saturation/report.json").is_file()
    info = subprocess.run([sys.executable, "-m", "zoo", "info", str(folder), "--json"], capture_output=True, text=True,
                          timeout=120)
    assert json.loads(info.stdout)["analyses"] == ["connectivity", "saturation"]

    zoo.save_checkpoint(zoo.create_model("lstm-1x8", vocab=vocab), tmp_path / "retrained")  # other weights
    (tmp_path / "empty").mkdir()
    shutil.copytree(reports / "saturation", tmp_path / "sneaky")  # a report naming a file outside its folder
    record = json.loads((tmp_path / "sneaky/report.json").read_text())
    record["files"]["figures"] = ["../../secret.png"]
    (tmp_path / "sneaky/report.json").write_text(json.dumps(record))
    for model, given, fragment in [(tmp_path / "retrained", reports, "was made from other weights"),
                                   (tmp_path / "ckpt", tmp_path / "empty", "holds no zoo report"),
                                   (tmp_path / "ckpt", tmp_path / "sneaky", "cannot be repository paths")]:
        result = subprocess.run([sys.executable, "-m", "zoo", "push", str(model), "--repo-id", "alice/lstm", "--reports",
                                 str(given), "--dry-run"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert fragment in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr


def test_a_folder_written_for_the_hub_is_what_a_pull_loads(hub, tmp_path):
    """`zoo push --to-dir` writes the three files a push would commit; committed as a repository
    on the loopback Hub, they pull at that commit, pass the checks and evaluate to the figures of
    the checkpoint they came from. A second write keeps the card unless told, and neither the
    source checkpoint nor a run is ever written over."""
    source = tmp_path / "source"  # a copy: `zoo eval` records its figures in a checkpoint it is given
    shutil.copytree(PRETRAINED / "lstm-2x128.sample", source)
    folder = tmp_path / "exported"
    written = zoo_cmd(hub, tmp_path / "home", "push", str(source), "--repo-id", "alice/exported", "--to-dir", str(folder),
                      "--json")
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout)["written"] == ["README.md", "config.json", "model.safetensors"]
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert (folder / WEIGHTS).read_bytes() == (source / WEIGHTS).read_bytes()

    rev = _commit(hub["root"] / "mirrors/models/alice/exported", {p.name: p.read_bytes() for p in folder.iterdir()})
    pulled = zoo_cmd(hub, tmp_path / "home", "pull", f"alice/exported@{rev}")
    assert pulled.returncode == 0, pulled.stderr
    scores = [json.loads(zoo_cmd(hub, tmp_path / "home", "eval", "--model", model, "--json", "--resamples", "0",
                                 offline=True).stdout)["nats"] for model in (f"hf:alice/exported@{rev}", str(source))]
    assert scores[0] == scores[1]

    (folder / "README.md").write_text("# my own words\n")
    again = zoo_cmd(hub, tmp_path / "home", "push", str(source), "--repo-id", "alice/exported", "--to-dir", str(folder))
    assert again.returncode == 0
    assert (folder / "README.md").read_text() == "# my own words\n"
    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab=zoo.Vocab(list("abcdef"))), tmp_path / "epoch",
                        training={"optimizer": "rmsprop"})
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("{}")
    (tmp_path / "bert").mkdir()  # another library's model folder
    (tmp_path / "bert" / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "bert" / "model.safetensors").write_bytes(b"not ours")
    for model, target, fragment in [(tmp_path / "epoch", tmp_path / "epoch", "is the checkpoint being published"),
                                    (source, tmp_path / "run", "holds a training run"),
                                    (source, tmp_path / "epoch", "holds a training run or checkpoint"),
                                    (source, tmp_path / "bert", "that is not a zoo checkpoint's")]:
        before = {p.name: p.read_bytes() for p in target.iterdir()}
        refused = zoo_cmd(hub, tmp_path / "home", "push", str(model), "--repo-id", "a/b", "--to-dir", str(target))
        assert refused.returncode == 1
        assert fragment in refused.stderr
        assert refused.stderr.count("\n") == 1
        assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    shipped = zoo_cmd(hub, tmp_path / "home", "push", str(PRETRAINED / "lstm-2x128.sample"), "--repo-id", "a/b",
                      "--to-dir", str(PRETRAINED / "lstm-2x128.sample"))
    assert shipped.returncode == 1
    assert "is the checkpoint being published" in shipped.stderr


def test_a_refused_push_is_one_line(hub, tmp_path):
    """olah accepts no uploads: the refusal (as a missing token's 401 would) is one line."""
    run = tmp_path / "run"
    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab=zoo.Vocab(list("abcdef"))), run)
    result = zoo_cmd(hub, tmp_path / "home", "push", str(run), "--repo-id", "alice/new")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "alice/new" in result.stderr


@pytest.mark.parametrize("repo_id, fragment", [
    ("bad repo", "write it as owner/name"),
    ("lstm-2x128", "write it as owner/name"),  # the Hub would take it; `hf:` and the card could not name it
    ("alice/lstm--2x128", "Cannot have -- or .."),
])
def test_a_repository_id_the_hub_would_refuse_is_refused_before_anything_is_prepared(tmp_path, repo_id, fragment):
    run = tmp_path / "run"
    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab=zoo.Vocab(list("abcdef"))), run)
    with pytest.raises(zoo.ZooError, match=fragment):
        zoo.hub.prepare(run, repo_id)


def test_a_baseline_or_a_folder_without_weights_is_not_pushed(tmp_path):
    baseline = tmp_path / "ngram"
    baseline.mkdir()
    (baseline / CONFIG).write_text(json.dumps({"format": "zoo-checkpoint", "format_version": 1,
                                               "baseline": {"name": "ngram", "order": 2}}))
    with pytest.raises(zoo.ZooError, match="is a fitted ngram baseline: zoo push publishes recurrent checkpoints"):
        zoo.hub.prepare(baseline, "alice/ngram")
    bare = tmp_path / "bare"
    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab_size=5), bare)
    (bare / WEIGHTS).unlink()
    with pytest.raises(zoo.ZooError, match="model.safetensors is missing"):
        zoo.hub.prepare(bare, "alice/bare")
    good = tmp_path / "good"
    zoo.save_checkpoint(zoo.create_model("gru-1x8", vocab_size=5), good)
    (tmp_path / "afile").write_text("keep me")
    with pytest.raises(zoo.ZooError, match="cannot make the folder .*afile/hub: Not a directory"):
        zoo.hub.save(zoo.hub.prepare(good, "alice/good"), tmp_path / "afile" / "hub")


def test_registry_hub_entries_are_pinned_to_commits(tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_text("schema_version: 1\nmodels:\n  lstm-1x8.x:\n    hub: {repo_id: alice/tiny, revision: main}\n")
    result = subprocess.run([sys.executable, "-m", "zoo", "info", "lstm-1x8.x"], capture_output=True, text=True,
                            env={**os.environ, "ZOO_REGISTRY": str(registry)}, timeout=60)
    assert result.returncode == 1
    assert "revision" in result.stderr
    assert "does not match" in result.stderr


def test_zoo_list_shows_where_a_registry_entry_is_pinned(tmp_path):
    registry = tmp_path / "registry.yaml"
    rev = "0123456789abcdef0123456789abcdef01234567"
    registry.write_text(f"schema_version: 1\nmodels:\n  lstm-1x8.x:\n    hub: {{repo_id: alice/tiny, revision: '{rev}'}}\n"
                        "  lstm-1x8.y: {}\n")
    result = subprocess.run([sys.executable, "-m", "zoo", "list", "--pretrained"], capture_output=True, text=True,
                            env={**os.environ, "ZOO_REGISTRY": str(registry)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [f"  lstm-1x8.x  weights: hf:alice/tiny@{rev}"]


def test_pull_fetches_the_published_analyses_when_asked(hub, tmp_path):
    """`zoo pull --analyses` brings the reports published with the weights into the cache beside
    them, at the same pinned commit; a plain pull fetches the weights alone."""
    from zoo.hub import prepare, save

    zoo.save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcdef "))), tmp_path / "ckpt")
    made = zoo_cmd(hub, tmp_path / "home", "analyze", "--model", str(tmp_path / "ckpt"), "--analyzer", "saturation",
                   "--text", "abc def fed cab " * 20, "--out", str(tmp_path / "reports"), "--quiet")
    assert made.returncode == 0, made.stderr
    save(prepare(tmp_path / "ckpt", "alice/analysed", reports=tmp_path / "reports"), tmp_path / "folder")
    published = {str(p.relative_to(tmp_path / "folder")): p.read_bytes() for p in (tmp_path / "folder").rglob("*")
                 if p.is_file()}
    rev = _commit(hub["root"] / "mirrors/models/alice/analysed", published)

    plain = zoo_cmd(hub, tmp_path / "home", "pull", f"alice/analysed@{rev}", "--json")
    assert plain.returncode == 0, plain.stderr
    where = Path(json.loads(plain.stdout)["path"])
    assert json.loads(plain.stdout)["analyses"] == []
    assert not (where / "analyses").exists()
    asked = zoo_cmd(hub, tmp_path / "home", "pull", f"alice/analysed@{rev}", "--analyses")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == f"{where}\n", asked.stderr  # stdout: the folder alone
    assert asked.stderr == f"analyses: saturation (in {where / 'analyses'})\n"
    for name, data in published.items():
        assert (where / name).read_bytes() == data
    offline = zoo_cmd(hub, tmp_path / "home", "info", f"hf:alice/analysed@{rev}", "--json", offline=True)
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["analyses"] == ["saturation"], offline.stderr
    none = zoo_cmd(hub, tmp_path / "home", "pull", f"alice/tiny@{hub['revisions']['good']}", "--analyses")
    assert none.returncode == 0, none.stderr
    assert none.stderr.endswith("has no analyses published with its weights\n"), none.stderr
