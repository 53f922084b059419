"""The released models: every clone has them offline, by name, with the figures their cards give."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

import zoo
from zoo.checkpoint import read_config
from zoo.registry import RELEASED, Registry, registry, released_folder, resolve_weights

ROOT = Path(__file__).resolve().parent.parent
RELEASED_MODELS = [name for name, spec in registry().models.items() if spec.released]
BUDGET_BYTES = 60 * 10**6  # weights in git, all released models together


def _tool():
    spec = importlib.util.spec_from_file_location("release_tool", ROOT / "tools" / "release.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_design_cards_models_are_released():
    assert {"lstm-3x512.warpeace", "lstm-3x512.linux"} <= set(RELEASED_MODELS)


@pytest.mark.parametrize("name", RELEASED_MODELS)
def test_each_released_model_has_its_hub_ready_folder(name):
    spec = registry().models[name]
    folder = released_folder(spec)
    assert folder == RELEASED / name
    config = read_config(folder)
    metrics = config["metrics"]
    assert metrics["test_nats"] == pytest.approx(spec.released["test_ce"], abs=5e-5)
    assert metrics["test_se_nats"] == pytest.approx(spec.released["test_se"], abs=5e-5)
    assert config["dataset"]["name"] == spec.dataset  # a dataset name, never a path on someone's disk
    assert "training" not in config  # the public config: no optimizer state
    assert config["history"][-1]["epoch"] >= metrics["epoch"]
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert f"{spec.released['test_ce']:.4f} ± {spec.released['test_se']:.4f}" in card
    assert f"The paper's test cross-entropy: {spec.reference['test_ce']}" in card
    assert f"zoo eval --model {name}" in card
    reports = {p.parent.name for p in folder.glob("analyses/*/report.json")}
    assert {"cells", "line-ends"} <= reports
    if spec.arch != "rnn":  # a vanilla RNN has no gates to saturate
        assert "saturation" in reports
    if spec.released.get("dtype"):
        assert config["storage"]["dtype"] == spec.released["dtype"]
        assert abs(config["storage"]["test_change"]) < 1e-3


def test_released_weights_stay_within_the_budget():
    total = sum(p.stat().st_size for p in RELEASED.glob("*/model.safetensors"))
    assert 0 < total <= BUDGET_BYTES
    assert sorted(p.parent.name for p in RELEASED.glob("*/config.json")) == sorted(RELEASED_MODELS)


def test_a_released_model_loads_by_name_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = zoo.load("lstm-3x512.warpeace")
    assert model.checkpoint == RELEASED / "lstm-3x512.warpeace"
    assert (model.config.layers, model.config.hidden) == (3, 512)
    assert "\r" in model.vocab.chars  # trained on the paper's CR LF text
    assert next(model.parameters()).dtype.is_floating_point
    assert str(next(model.parameters()).dtype) == "torch.float32"  # stored in float16, loaded as trained


def test_a_short_name_stands_for_its_first_released_variant():
    spec, where = resolve_weights("lstm-3x512")
    assert spec.name == "lstm-3x512.warpeace"
    assert where == RELEASED / "lstm-3x512.warpeace"


def test_a_name_without_weights_says_what_would_work():
    with pytest.raises(zoo.ZooError, match=r"no released weights: train one with `zoo train --model lstm-4x32 --data sample`, or use a released lstm: "):
        resolve_weights("lstm-4x32")
    with pytest.raises(zoo.ZooError) as refused:  # a released gru predicts characters, not the words being typed
        resolve_weights("gru-2x600.text8")
    assert "use a released" not in str(refused.value)


def test_list_pretrained_gives_each_figure_beside_the_papers(zoo_cli):
    code, out, _ = zoo_cli("list", "--pretrained")
    assert code == 0
    assert f"Models ({len(RELEASED_MODELS) + 1} with weights)" in out
    line = next(line for line in out.splitlines() if line.strip().startswith("lstm-3x512.warpeace"))
    spec = registry().models["lstm-3x512.warpeace"]
    assert f"test CE {spec.released['test_ce']:.4f} ± {spec.released['test_se']:.4f} (paper 1.082)" in line


def test_without_its_text_one_line_says_what_to_pass(zoo_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    code, _, err = zoo_cli("eval", "--model", "lstm-3x512.warpeace")
    assert code != 0
    lines = err.strip().splitlines()
    sha = read_config(RELEASED / "lstm-3x512.warpeace")["dataset"]["sha256"]
    assert re.search(rf"trained on warpeace \(3,258,230 characters, CRLF line ends, sha256 {sha} .*--data FILE", lines[-1])
    assert "Traceback" not in err


def test_set_entry_rewrites_one_line_and_keeps_the_rest(tmp_path):
    tool = _tool()
    copy = tmp_path / "registry.yaml"
    shutil.copyfile(ROOT / "registry.yaml", copy)
    before = copy.read_text().splitlines()
    pin = {"repo_id": "rnn-zoo/lstm-3x64-warpeace", "revision": "a" * 40,
           "sha256": {"model.safetensors": "b" * 64, "config.json": "c" * 64}}
    tool.set_entry(copy, "lstm-3x64.warpeace", hub=pin)
    after = copy.read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(before) == len(after)
    assert len(changed) == 1
    assert after[changed[0]].startswith("  lstm-3x64.warpeace: ")
    assert Registry(copy).models["lstm-3x64.warpeace"].hub == pin
    with pytest.raises(SystemExit, match="revision"):  # the schema's 40-hex rule holds for what the tool writes
        tool.set_entry(copy, "lstm-3x64.warpeace", hub={**pin, "revision": "main"})
    assert Registry(copy).models["lstm-3x64.warpeace"].hub == pin  # the refused pin left the file as it was


def test_publish_dry_run_shows_what_each_repository_receives(tmp_path, capsys, monkeypatch):
    """What a push would commit, per repository; nothing is uploaded (there is no network here)."""
    tool = _tool()
    released = tmp_path / "released"
    shutil.copytree(RELEASED / "lstm-3x512.warpeace", released / "lstm-3x512.warpeace")
    monkeypatch.setattr("sys.argv", ["release.py", "--released", str(released), "publish", "--org", "someone",
                                     "--models", r"lstm-3x512\.warpeace", "--dry-run"])
    tool.main()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "someone/lstm-3x512-warpeace (lstm-3x512.warpeace):"
    files = {line.split()[0] for line in out[1:]}
    assert {"model.safetensors", "config.json", "README.md", "analyses/cells/report.json"} <= files
    weights = next(line for line in out if line.split()[0] == "model.safetensors")
    sha = read_config(released / "lstm-3x512.warpeace")["weights_sha256"]
    assert weights.endswith(f"sha256 {sha}")


def test_publish_refuses_a_released_entry_without_its_folder(tmp_path, monkeypatch):
    tool = _tool()
    monkeypatch.setattr("sys.argv", ["release.py", "--released", str(tmp_path), "publish", "--org", "someone",
                                     "--dry-run"])
    with pytest.raises(SystemExit, match="released/ lacks the folders of"):
        tool.main()


def test_a_released_folder_is_never_written_by_eval(zoo_cli, tmp_path):
    """Released folders are read like the Hub cache: a command scores them, never edits them."""
    sample = (ROOT / "zoo" / "corpora" / "warpeace-sample.txt").read_text(encoding="utf-8")[:20_000]
    text = tmp_path / "slice.txt"
    text.write_text(sample, encoding="utf-8")
    folder = RELEASED / "lstm-3x512.warpeace"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    code, out, err = zoo_cli("eval", "--model", "lstm-3x512.warpeace", "--data", str(text), "--json")
    assert code == 0, err
    assert 0.5 < json.loads(out)["nats"] < 2.5  # the novel's own opening: the model knows it
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_the_no_weights_hint_runs_as_printed(zoo_cli, tmp_path, monkeypatch):
    """The command the error suggests trains (one epoch here, to keep the test short)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(zoo.ZooError) as refused:
        resolve_weights("rnn-1x8")
    command = re.search(r"`zoo (train [^`]+)`", str(refused.value))[1].split()
    assert command == ["train", "--model", "rnn-1x8", "--data", "sample"]
    code, out, err = zoo_cli(*command, "--epochs", "1", "--quiet")
    assert code == 0, err
    assert zoo.load("runs/rnn-1x8.sample").config.hidden == 8


def test_push_takes_a_model_name_as_every_command_does(zoo_cli):
    code, out, err = zoo_cli("push", "lstm-2x128.sample", "--repo-id", "someone/sample", "--dry-run", "--json")
    assert code == 0, err
    assert {"model.safetensors", "config.json", "README.md"} <= {row["path"] for row in json.loads(out)["files"]}


def test_a_checkpoint_outside_a_run_publishes_the_history_it_holds(tmp_path):
    from zoo import hub

    copy = tmp_path / "lstm-1x64.warpeace"
    shutil.copytree(RELEASED / "lstm-1x64.warpeace", copy)
    public = json.loads(hub.prepare(copy, "someone/lstm-1x64").files["config.json"])
    assert len(public["history"]) == len(read_config(copy)["history"]) == 50


def test_the_push_hint_runs_as_printed(zoo_cli, tmp_path):
    """`zoo push --to-dir` says how to publish the folder; that command runs (here with --dry-run,
    since there is no network)."""
    folder = tmp_path / "hub"
    code, out, err = zoo_cli("push", "lstm-2x128.sample", "--repo-id", "someone/sample", "--to-dir", str(folder))
    assert code == 0, err
    command = re.search(r"`zoo (push [^`]+)`", out)[1].split()
    assert command == ["push", str(folder), "--repo-id", "someone/sample"]
    code, out, err = zoo_cli(*command, "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["repo_id"] == "someone/sample"


def test_the_readmes_python_example_runs_as_written(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)  # noqa: S102 (the project's own README)
    assert scope["forget"].shape == (1, len(scope["text"]), 512)
    assert len(scope["report"].summary["layers"]) == 3  # one entry a layer
    assert (tmp_path / "runs" / "my-gru" / "config.json").is_file()


def test_reports_of_a_short_name_say_which_model_they_read():
    from zoo.cli.common import labelled

    assert labelled(["lstm-3x512", "lstm-1x64.warpeace", "runs/not-here"]) == [
        ("lstm-3x512.warpeace", "lstm-3x512"), ("lstm-1x64.warpeace", "lstm-1x64.warpeace"),
        ("runs/not-here", "runs/not-here")]
    assert labelled(["big=lstm-3x512"]) == [("big", "lstm-3x512")]  # a name given is kept
