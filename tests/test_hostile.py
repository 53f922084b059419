"""Hostile and broken run folders, labels and revisions, and failing disks: each is refused in one
line or recovered from, and nothing outside the folder the user named is written or removed."""

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo
import zoo.fileio
import zoo.hub
from zoo.checkpoint import CONFIG, WEIGHTS, checkpoint_dir, save_checkpoint, update_config
from zoo.cli.common import labelled
from zoo.data import load_corpus
from zoo.hub import parse_spec
from zoo.recipe import Recipe
from zoo.trainer import train

SMALL = {"batch_size": 4, "seq_length": 16, "patience": 0}


def quiet(*args, **kwargs):
    return train(*args, **kwargs, progress=False, log=lambda line: None)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models train fastest on one thread; more only wait for each other on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def text(small_text):
    return small_text


@pytest.fixture(scope="module")
def finished(text, tmp_path_factory):
    """A run of one epoch, copied by `run` for each test."""
    run = tmp_path_factory.mktemp("finished") / "run"
    quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=1, **SMALL), run)
    return run


@pytest.fixture
def run(finished, tmp_path):
    shutil.copytree(finished, tmp_path / "out" / "run")
    return tmp_path / "out" / "run"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path, with its bytes (links as where they lead)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else os.readlink(p) if p.is_symlink() else b"")
            for p in sorted(folder.rglob("*"))}


def one_line_error(code: int, err: str, fragment: str) -> None:
    """Exit status 1 and one line of error, last on stderr (after any progress the command logged)."""
    *before, last = err.splitlines()
    assert code == 1
    assert last.startswith("zoo: error: ")
    assert "Traceback" not in err
    assert "zoo: error" not in "".join(before)
    assert fragment in last, err


# -- 1. run.json pointers lead nowhere outside the run -----------------------------------------------

@pytest.mark.parametrize("where", ["dotdot", "absolute", "through", "link"])
def test_a_run_json_pointing_outside_the_run_is_refused_and_nothing_outside_is_touched(run, text, where, zoo_cli):
    victim = run.parent / "victim"
    shutil.copytree(run / "epochs" / "0001", victim)  # a real checkpoint: followed, it would load
    record = json.loads((run / "run.json").read_text())
    pointer = {"dotdot": "../victim", "absolute": str(victim), "through": "epochs/../../victim",
               "link": "epochs/0009"}[where]
    if where == "link":
        (run / "epochs" / "0009").symlink_to(victim, target_is_directory=True)
    (run / "run.json").write_text(json.dumps({**record, "last": pointer, "best": pointer}))
    before, inside = snapshot(victim), snapshot(run)

    code, _, err = zoo_cli("train", "--model", "lstm-1x8", "--data", str(text), "--out", str(run), "--resume",
                           "--epochs", "3", "--quiet", *(f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()))
    one_line_error(code, err, "not a folder inside")
    code, _, err = zoo_cli("eval", "--model", str(run), "--data", str(text), "--resamples", "0")
    one_line_error(code, err, "not a folder inside")
    with pytest.raises(zoo.ZooError, match="not a folder inside"):
        update_config(run, metrics={"test_nats": 0.0})
    assert snapshot(victim) == before
    assert snapshot(run) == inside
    assert sorted(p.name for p in run.parent.iterdir()) == ["run", "victim"]


def test_a_pointer_inside_the_run_is_followed_but_only_epoch_folders_are_pruned(run, text):
    """A "best" of "epochs" lies inside the run, but it is no epoch: pruning leaves it (and the
    epochs in it) alone."""
    record = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**record, "best": "epochs"}))
    quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=2, **SMALL), run, resume=True)
    record = json.loads((run / "run.json").read_text())
    assert record["last"] == "epochs/0002"
    assert (run / "epochs" / "0002" / WEIGHTS).is_file()
    assert checkpoint_dir(run) == run / record["best"]


@pytest.mark.parametrize("record, fragment", [({"last": None, "history": []}, "not a folder inside"),
                                              ({"last": ".", "history": []}, "not a folder inside"),
                                              (["epochs/0001"], "not a run record .*the run folder is damaged"),
                                              ([], "not a run record"), ("x", "not a run record")])
def test_a_damaged_run_record_is_one_line(run, record, fragment):
    (run / "run.json").write_text(json.dumps(record))
    with pytest.raises(zoo.ZooError, match=fragment):
        checkpoint_dir(run)


def test_epochs_linked_out_of_the_run_are_refused(run, text):
    elsewhere = run.parent / "elsewhere"
    shutil.move(run / "epochs", elsewhere)
    (run / "epochs").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(elsewhere)
    with pytest.raises(zoo.ZooError, match="not a folder inside"):
        quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=2, **SMALL), run, resume=True)
    (run / "run.json").unlink()  # a fresh start into it would write through the link
    with pytest.raises(zoo.ZooError, match="is a link"):
        quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=1, **SMALL), run)
    assert snapshot(elsewhere) == before


# -- 2. a label names one folder under reports/ ----------------------------------------------------

@pytest.mark.parametrize("name", ["..", ".", "", "a\\b", "tab\there", "bell\x07"])
def test_a_label_that_is_not_one_folder_name_is_refused(name, tmp_path, monkeypatch, zoo_cli):
    monkeypatch.chdir(tmp_path)
    code, _, err = zoo_cli("analyze", "--model", f"{name}=lstm-2x128.sample", "--analyzer", "saturation",
                           "--max-chars", "200", "--quiet")
    one_line_error(code, err, "cannot name a folder")
    assert list(tmp_path.iterdir()) == []


def test_labels_that_are_folder_names_are_kept():
    assert labelled(["mine=lstm-2x128.sample", "other.v2=lstm-1x8"]) == [("mine", "lstm-2x128.sample"),
                                                                         ("other.v2", "lstm-1x8")]


# -- 3. the leftovers of a run killed in a write -----------------------------------------------------

def test_a_run_killed_in_its_first_run_json_write_starts_again(run, text):
    (run / "run.json").rename(run / ".run.json.k1ll3d.tmp")  # the whole record, not yet renamed
    (run / ".run.json.x7y8z9.tmp").write_text('{"last": "epo')  # and a half-written one
    (run / "epochs" / ".0002.tmp").mkdir()
    (run / "epochs" / ".0002.tmp" / WEIGHTS).write_bytes(b"half")
    corpus = load_corpus(str(text))
    lines = []
    result = train("lstm-1x8", corpus, Recipe(max_epochs=1, **SMALL), run, resume=True, progress=False,
                   log=lines.append)
    assert result.epochs == 1
    assert lines[0] == f"{run} recorded no finished epoch (no run.json): starting at epoch 1"
    assert sorted(p.name for p in run.iterdir()) == ["epochs", "run.json"]
    assert sorted(p.name for p in (run / "epochs").iterdir()) == ["0001"]
    (run / "run.json").rename(run / ".run.json.again.tmp")  # without --resume: the same
    quiet("lstm-1x8", corpus, Recipe(max_epochs=1, **SMALL), run)
    assert sorted(p.name for p in run.iterdir()) == ["epochs", "run.json"]


def test_resume_cleans_the_runs_own_leftovers_and_nothing_else(run, text):
    epochs = run / "epochs"
    (run / ".run.json.abc123.tmp").write_text("{")
    (epochs / ".0002.tmp").mkdir()  # an epoch being written
    (epochs / ".0002.tmp" / CONFIG).write_text("{")
    shutil.copytree(epochs / "0001", epochs / "0002")  # written, not yet recorded in run.json
    (epochs / "0007").mkdir()  # an orphan left empty by an unfinished pruning
    mine = {run / "notes.txt": b"keep", epochs / "notes.txt": b"keep", epochs / "0003.bak": b"keep",
            run / ".run.json.bak": b"keep"}
    for path, data in mine.items():
        path.write_bytes(data)
    before = (run / "run.json").read_bytes()
    result = quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=1, **SMALL), run, resume=True)
    assert result.epochs == 1
    assert (run / "run.json").read_bytes() == before
    assert sorted(p.name for p in epochs.iterdir()) == ["0001", "0003.bak", "notes.txt"]
    assert sorted(p.name for p in run.iterdir()) == [".run.json.bak", "epochs", "notes.txt", "run.json"]
    assert all(path.read_bytes() == data for path, data in mine.items())


def test_resume_of_nothing_is_still_refused(tmp_path, text):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "missing", tmp_path / "empty"):
        with pytest.raises(zoo.ZooError, match="nothing to resume"):
            quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=1, **SMALL), folder, resume=True)


# -- 4. the same tensors give the same bytes -------------------------------------------------------

SAVE = ("import sys, torch, zoo; torch.manual_seed(0); "
        "zoo.save_checkpoint(zoo.create_model('lstm-1x8', vocab=zoo.Vocab(list('abcdef'))), sys.argv[1])")


def test_a_checkpoint_is_the_same_bytes_in_every_process(tmp_path):
    for seed in ("0", "1"):
        subprocess.run([sys.executable, "-c", SAVE, str(tmp_path / seed)], check=True, timeout=300,
                       env={**os.environ, "PYTHONHASHSEED": seed})
    torch.manual_seed(0)  # and once in this process
    save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcdef"))), tmp_path / "here")
    written = {(tmp_path / name / WEIGHTS).read_bytes() for name in ("0", "1", "here")}
    assert len(written) == 1
    recorded = {json.loads((tmp_path / name / CONFIG).read_text())["weights_sha256"] for name in ("0", "1", "here")}
    assert recorded == {zoo.fileio.sha256_bytes(written.pop())}


def test_a_checkpoint_is_the_same_bytes_every_time(tmp_path):
    """safetensors orders its metadata from a Rust HashMap, differently from one call to the next."""
    model = zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcdef")))
    written = {save_checkpoint(model, tmp_path / str(i)).joinpath(WEIGHTS).read_bytes() for i in range(8)}
    assert len(written) == 1
    loaded = zoo.load_checkpoint(tmp_path / "0")
    assert all(v.equal(model.state_dict()[k]) for k, v in loaded.state_dict().items())


# -- 5. a full disk ----------------------------------------------------------------------------------

def full_disk_at(call: int):
    """`zoo.fileio._write_to_disk` that fails as a full disk does on its `call`-th use."""
    real, calls = zoo.fileio._write_to_disk, []

    def write(fd, data):
        calls.append(fd)
        if len(calls) == call:
            os.close(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)
    return write


@pytest.mark.parametrize("call", [1, 2, 3, 4])  # an epoch writes its training state, weights, config, then run.json
def test_a_full_disk_keeps_the_last_epoch_and_says_so(run, text, monkeypatch, call):
    corpus, before = load_corpus(str(text)), snapshot(run)
    monkeypatch.setattr(zoo.fileio, "_write_to_disk", full_disk_at(call))
    with pytest.raises(zoo.ZooError) as refused:
        quiet("lstm-1x8", corpus, Recipe(max_epochs=2, **SMALL), run, resume=True)
    message = str(refused.value)
    assert message.startswith(f"cannot save epoch 2 in {run}: No space left on device; ")
    assert f"keeps its last complete epoch, {run / 'epochs/0001'}" in message
    assert "--resume" in message
    assert snapshot(run) == before  # no epochs/.0002.tmp, no epochs/0002, no temporary run.json
    monkeypatch.undo()
    quiet("lstm-1x8", corpus, Recipe(max_epochs=2, **SMALL), run, resume=True)
    assert json.loads((run / "run.json").read_text())["last"] == "epochs/0002"


def test_a_full_disk_in_the_first_epoch_and_on_the_command_line(run, text, tmp_path, monkeypatch, zoo_cli):
    monkeypatch.setattr(zoo.fileio, "_write_to_disk", full_disk_at(2))
    with pytest.raises(zoo.ZooError, match="no epoch was kept: make room, then run the command again"):
        quiet("lstm-1x8", load_corpus(str(text)), Recipe(max_epochs=1, **SMALL), tmp_path / "new")
    assert [p for p in (tmp_path / "new").rglob("*") if p.name != "epochs"] == []
    monkeypatch.setattr(zoo.fileio, "_write_to_disk", full_disk_at(4))
    code, _, err = zoo_cli("train", "--model", "lstm-1x8", "--data", str(text), "--out", str(run), "--resume",
                           "--epochs", "2", "--quiet", *(f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()))
    one_line_error(code, err, f"cannot save epoch 2 in {run}: No space left on device")


# -- 6. Hub revisions ------------------------------------------------------------------------------

@pytest.mark.parametrize("revision", ["0123456789abcdef0123456789abcdef01234567", "main", "v1.0", "refs/pr/1",
                                      "abc123", "feature/x-2"])
def test_commits_branches_and_tags_are_revisions(revision):
    assert parse_spec(f"hf:alice/tiny@{revision}") == ("alice/tiny", revision)


@pytest.mark.parametrize("revision", ["../../../../etc", "a/../b", "/etc", "main/", "a//b", "a\\b", "a b", "a\nb",
                                      "a\x00b", "", ".hidden", "x.lock", "a~1", "a:b", "@"])
def test_other_revisions_are_refused_before_any_download(revision, monkeypatch, zoo_cli):
    import huggingface_hub

    def never(*args, **kwargs):
        raise AssertionError("a refused revision reached the Hub client")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", never)
    with pytest.raises(zoo.ZooError, match="neither a commit"):
        parse_spec(f"hf:alice/tiny@{revision}")
    with pytest.raises(zoo.ZooError, match="neither a commit"):
        zoo.hub.pull("alice/tiny", revision)
    if "\n" not in revision and "\x00" not in revision:
        code, _, err = zoo_cli("pull", f"alice/tiny@{revision}")
        one_line_error(code, err, "neither a commit")


@pytest.mark.parametrize("args, says", [
    (["--lr", "nan"], "lr must be a number above 0, got nan"),
    (["--lr", "inf"], "lr must be a number above 0, got inf"),
    (["--lr-decay", "nan"], "lr_decay must be a number in (0, 1], got nan"),
    (["--clip-value", "-1"], "clip_value must be a number above 0, got -1.0"),
    (["--seed", str(2**70)], "seed must be between 0 and"),
])
def test_absurd_numbers_for_training_are_refused_before_it_starts(tmp_path, capsys, args, says):
    from zoo.cli import main

    with pytest.raises(SystemExit) as done:
        main(["train", "--model", "lstm-1x8", "--data", "sample", "--out", str(tmp_path / "run"), "--quiet", *args])
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.count("\n") == 1
    assert says in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, says", [
    (["--temperature", "nan"], "temperature must be 0"),
    (["--temperature", "1e-320"], "temperature must be 0"),
    (["--seed", str(2**70)], "--seed must be between 0 and"),
])
def test_absurd_sampling_settings_are_one_line(capsys, args, says):
    from zoo.cli import main

    with pytest.raises(SystemExit) as done:
        main(["sample", "--model", "lstm-2x128.sample", "-n", "5", *args])
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.count("\n") == 1
    assert says in err


def test_a_sample_is_printed_as_it_is_drawn():
    from zoo.sample import stream

    model = zoo.load("lstm-2x128.sample")
    pieces = list(stream(model, "The ", 150, temperature=0.8, seed=1, every=64))
    assert [len(p) for p in pieces] == [64, 64, 22]
    assert "".join(pieces) == zoo.sample.sample(model, "The ", 150, temperature=0.8, seed=1)


def test_a_block_longer_than_half_the_text_is_refused():
    import numpy as np

    from zoo.evaluate import bootstrap_se

    losses = np.random.default_rng(0).exponential(1.0, 1_000)
    assert bootstrap_se(losses, block=500) > 0
    with pytest.raises(zoo.ZooError, match="leaves fewer than two runs in 1,000 characters: choose at most 500"):
        bootstrap_se(losses, block=10**12)


@pytest.mark.parametrize("change, says", [
    ({"hidden": 20000}, "do not fit its config: .* is \\[.*\\], the config needs \\[.*20000"),
    ({"layers": 1000000}, "layers must be an integer from 1 to 64, got 1000000"),
    ({"hidden": 10**9}, "hidden must be an integer from 1 to 32,768"),
    ({"dropout": "x"}, "dropout must be a number in \\[0, 1\\), got 'x'"),
])
def test_absurd_sizes_in_a_config_are_the_files_fault_and_cost_nothing(tmp_path, capsys, change, says):
    """Checked against limits and the weights' header before any tensor is allocated: one line,
    not the architecture plugin's failure, and no gigabytes."""
    import resource

    from zoo.cli import main

    folder = save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcde"))), tmp_path / "ckpt")
    config = json.loads((folder / CONFIG).read_text())
    config["model"].update(change)
    (folder / CONFIG).write_text(json.dumps(config))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SystemExit) as done:
        main(["sample", "--model", str(folder), "-n", "1"])
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.count("\n") == 1, err
    assert re.search(says, err), err
    assert "plugin" not in err
    try:  # zoo info shows what loading finds: a refused config, or weights refused beside the spec
        main(["info", str(folder)])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 1
    assert re.search(says, err + out), (out, err)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # KiB: well under the 6 GB


def test_every_analyzer_is_checked_against_the_text_before_the_first_report(tmp_path, capsys):
    from zoo.cli import main

    with pytest.raises(SystemExit) as done:
        main(["analyze", "--model", "lstm-2x128.sample", "--analyzer", "saturation,cells,line-ends", "--max-chars",
              "2", "--out", str(tmp_path / "reports"), "--quiet"])
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert "line-ends: the text has no word followed by a space or a line end" in err
    assert not (tmp_path / "reports").exists()


def test_a_report_folder_being_written_is_refused_to_a_second_analysis(tmp_path, capsys):
    from zoo.cli import main
    from zoo.fileio import hold_folder

    out = tmp_path / "reports"
    with hold_folder(out, "written by another zoo analyze"), pytest.raises(SystemExit) as done:
        main(["analyze", "--model", "lstm-2x128.sample", "--analyzer", "saturation", "--max-chars", "500",
              "--out", str(out), "--quiet"])
    assert done.value.code == 1
    assert "is being written by another zoo analyze" in capsys.readouterr().err
    main(["analyze", "--model", "lstm-2x128.sample", "--analyzer", "saturation", "--max-chars", "500",
          "--out", str(out), "--quiet"])  # released: the same command writes its report
    assert (out / "report.html").is_file()


def test_a_split_of_nans_is_refused():
    from zoo.data import parse_split

    with pytest.raises(zoo.ZooError, match="three positive fractions that add up to 1"):
        parse_split("nan,nan,nan")


def test_weights_without_a_recorded_checksum_load_with_a_warning(tmp_path):
    folder = save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcde"))), tmp_path / "ckpt")
    config = json.loads((folder / CONFIG).read_text())
    del config["weights_sha256"]
    (folder / CONFIG).write_text(json.dumps(config))
    with pytest.warns(UserWarning, match="records no weights_sha256: model.safetensors is loaded unverified"):
        zoo.load_checkpoint(folder)


def poke(folder: Path, name: str, value: float) -> Path:
    """Write `value` into one element of the tensor `name` of a checkpoint and record the new
    weights' sha256, so that the value is all that is wrong with the file."""
    import safetensors.torch

    from zoo.checkpoint import safetensors_bytes

    tensors = safetensors.torch.load_file(folder / WEIGHTS)
    tensors[name].view(-1)[3] = value
    data = safetensors_bytes(tensors, metadata={"format": "pt", "zoo_arch": "lstm"})
    (folder / WEIGHTS).write_bytes(data)
    config = json.loads((folder / CONFIG).read_text())
    (folder / CONFIG).write_text(json.dumps({**config, "weights_sha256": zoo.fileio.sha256_bytes(data)}))
    return folder


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_weights_holding_nan_or_infinity_are_refused_naming_the_tensor(tmp_path, text, value, zoo_cli):
    model = zoo.create_model("lstm-1x8", vocab=zoo.Vocab(sorted(set(text.read_text()))))
    folder = save_checkpoint(model, tmp_path / "ckpt")
    name = sorted(model.state_dict())[-1]
    poke(folder, name, value)
    with pytest.raises(zoo.ZooError, match=f"{re.escape(str(folder / WEIGHTS))} holds NaN or infinite weights, "
                                           f"first in {re.escape(name)}:"):
        zoo.load_checkpoint(folder)
    code, _, err = zoo_cli("eval", "--model", str(folder), "--data", str(text), "--resamples", "0")
    one_line_error(code, err, f"holds NaN or infinite weights, first in {name}")
    code, out, err = zoo_cli("sample", "--model", str(folder), "-n", "5", "--seed", "1")
    one_line_error(code, err, str(folder / WEIGHTS))
    assert out == ""


def test_every_shipped_checkpoint_is_finite_and_loads():
    """The bundled model and every released one (float16 among them) pass the check."""
    from zoo.registry import PRETRAINED, RELEASED

    folders = sorted(p.parent for root in (PRETRAINED, RELEASED) for p in Path(root).glob(f"*/{CONFIG}"))
    assert len(folders) >= 2
    for folder in folders:
        assert zoo.load_checkpoint(folder).vocab is not None, folder


# -- 7. memory running out, even while the error is being explained --------------------------------

def raising(exc: BaseException):
    def fail(*args, **kwargs):
        raise exc
    return fail


@pytest.mark.parametrize("inner", [MemoryError(), ValueError("boom")])
@pytest.mark.parametrize("failing", ["_first_line", "out_of_memory", "plugins"])
def test_attributing_a_failure_to_a_plugin_that_fails_itself_is_still_one_line(tmp_path, monkeypatch, zoo_cli,
                                                                                inner, failing):
    """`blame` names the plugin whose code failed; when naming it fails in turn (memory ran out
    while formatting or looking the plugin up), the command still ends in one line."""
    import dataclasses

    import zoo.plugins

    folder = save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcde"))), tmp_path / "ckpt")
    entries = zoo.plugins.plugins().entries["architecture"]
    failing_lstm = type("FailingLSTM", (entries["lstm"].load(),), {"__init__": raising(inner)})
    monkeypatch.setitem(entries, "lstm", dataclasses.replace(entries["lstm"], target=failing_lstm))
    with monkeypatch.context() as patched:  # only for the attribution: loading looks plugins up too
        patched.setattr(zoo.plugins, failing, raising(MemoryError()))
        with pytest.raises(zoo.ZooError, match="out of memory") as refused, zoo.plugins.blame("architecture", "lstm"):
            failing_lstm(None)
    assert "\n" not in str(refused.value)
    if failing != "plugins":
        monkeypatch.setattr(zoo.plugins, failing, raising(MemoryError()))
        code, out, err = zoo_cli("sample", "--model", str(folder), "-n", "1")
        one_line_error(code, err, "out of memory (a smaller model")
        assert out == ""


@pytest.mark.parametrize("raised, explaining, says", [
    (MemoryError(), MemoryError(), "out of memory (a smaller model, --batch-size or text may fit"),
    (ValueError("odd\nsecond line"), MemoryError(), "out of memory (a smaller model"),
    (ValueError("odd\nsecond line"), RuntimeError("no"), "unexpected ValueError: odd (ZOO_TRACEBACK=1 prints"),
])
def test_a_command_whose_error_cannot_be_explained_still_ends_in_one_line(monkeypatch, zoo_cli, raised, explaining,
                                                                          says):
    import zoo.loading
    import zoo.plugins

    monkeypatch.setattr(zoo.loading, "load", raising(raised))
    monkeypatch.setattr(zoo.plugins, "explain", raising(explaining))
    code, out, err = zoo_cli("sample", "--model", "lstm-2x128.sample", "-n", "1")
    one_line_error(code, err, says)


@pytest.mark.parametrize("exc", [
    MemoryError(),
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried to "
                 "allocate 40000000000000 bytes. Error code 12 (Cannot allocate memory)"),
    ImportError("libtorch_cpu.so: failed to map segment from shared object"),
])
def test_running_out_of_memory_is_said_as_such_not_as_a_bug_or_a_plugins_failure(exc):
    from zoo.plugins import blame, explain

    assert explain(exc).startswith("out of memory: ")
    with pytest.raises(zoo.ZooError, match="^architecture 'lstm' ran out of memory: .*ulimit -v"), \
            blame("architecture", "lstm"):
        raise exc


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the process's size from Linux's /proc")
def test_a_hostile_config_under_a_memory_limit_is_one_line(tmp_path):
    """A config asking for a million layers, read by a process under a limit on its address space
    a little above what the command line's code has mapped (`ulimit -v`): torch cannot even load,
    and the command still ends in one line."""
    folder = save_checkpoint(zoo.create_model("lstm-1x8", vocab=zoo.Vocab(list("abcde"))), tmp_path / "ckpt")
    config = json.loads((folder / CONFIG).read_text())
    config["model"]["layers"] = 1_000_000
    (folder / CONFIG).write_text(json.dumps(config))
    script = ("import resource, sys\n"
              "from zoo.cli import main\n"
              "size = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmSize:'))\n"
              "hard = resource.getrlimit(resource.RLIMIT_AS)[1]\n"
              "resource.setrlimit(resource.RLIMIT_AS, ((size << 10) + (64 << 20), hard))\n"
              "main(['sample', '--model', sys.argv[1], '-n', '1'])\n")
    done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k not in ("ZOO_TRACEBACK", "ZOO_PLUGIN_TRACEBACK")})
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    # torch cannot load (out of memory), or, were it loaded with the command line, the config is refused
    assert re.match(r"zoo: error: (out of memory|invalid model config: layers must be)", done.stderr), done.stderr
