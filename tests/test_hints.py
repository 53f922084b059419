"""Every command the zoo suggests runs as suggested.

Each hint is triggered on a small fixture; the command it names (a backticked `zoo ...`, or the
flag it says to add) is taken from the message, its placeholders (`<model>`, `FILE`,
`ORG/NAME@REVISION`) replaced by what they stand for, and run: it must not be a usage error (exit
2, "No such option", "Missing option"). Where a hint names only one flag to add, the command
completed with it must run. The hint of a registry name
without weights and the one `zoo push --to-dir` prints are run in tests/test_released.py.
"""

import errno
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

import zoo
import zoo.fileio
from zoo.checkpoint import CONFIG, FORMAT, FORMAT_VERSION, save_checkpoint

SMALL = ["--batch-size", "4", "--seq-length", "16", "--patience", "0", "--quiet"]


@pytest.fixture(scope="module")
def text(small_text):
    return small_text


def command_in(message: str, **placeholders: str) -> list[str]:
    """The arguments after `zoo` of the one backticked command in `message`, with `placeholders`
    (as printed, e.g. ``{"<model>": "lstm-1x8"}``) replaced."""
    found = re.findall(r"`zoo ([^`]+)`", message)
    assert len(found) == 1, message
    command = found[0]
    for placeholder, value in placeholders.items():
        command = command.replace(placeholder, value)
    return shlex.split(command)


def not_a_usage_error(code: int, err: str) -> None:
    assert code != 2, err
    for words in ("No such option", "Missing option", "Missing argument", "No such command", "Usage:"):
        assert words not in err, err


def last_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines, err
    assert lines[-1].startswith("zoo: error: "), err
    return lines[-1]


# -- commands named in backticks ---------------------------------------------------------------------

@pytest.mark.parametrize("trigger", [
    ["analyze", "--model", "lstm-2x128.sample", "--analyzer", ",", "--quiet"],
    ["push", "lstm-2x128.sample", "--repo-id", "someone/sample", "--reproduces", "no-such-model", "--dry-run"],
])
def test_the_zoo_list_hints_run(zoo_cli, trigger):
    code, _, err = zoo_cli(*trigger)
    assert code == 1
    command = command_in(last_line(err))
    assert command == ["list"]
    code, out, err = zoo_cli(*command)
    assert code == 0, err
    assert "lstm-2x128" in out


def test_the_reports_hint_names_where_zoo_analyze_writes(zoo_cli, tmp_path, monkeypatch):
    """`zoo push --reports` with no report says to give a folder `zoo analyze` wrote,
    reports/<model>: the folder that command writes is taken."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    push = ["push", "lstm-2x128.sample", "--repo-id", "someone/sample", "--dry-run", "--json"]
    code, _, err = zoo_cli(*push, "--reports", "empty")
    assert code == 1
    message = last_line(err)
    assert command_in(message) == ["analyze"]
    folder = re.search(r"\((reports/<model>)", message)[1].replace("<model>", "lstm-2x128.sample")
    code, _, err = zoo_cli("analyze", "--model", "lstm-2x128.sample", "--analyzer", "saturation", "--max-chars", "300",
                           "--quiet")
    assert code == 0, err
    code, out, err = zoo_cli(*push, "--reports", folder)
    assert code == 0, err
    assert any(row["path"].startswith("analyses/saturation/") for row in json.loads(out)["files"])


def test_the_baseline_hint_fits_the_baseline_again(zoo_cli, text, tmp_path):
    folder = tmp_path / "ngram-3.small"
    folder.mkdir()
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, "baseline": {"name": "ngram", "order": 3}}
    (folder / CONFIG).write_text(json.dumps(config))
    code, _, err = zoo_cli("push", str(folder), "--repo-id", "someone/ngram", "--dry-run")
    assert code == 1
    command = command_in(last_line(err), **{"<text>": str(text)})
    assert command[:3] == ["baseline", "fit", "ngram"]
    code, _, err = zoo_cli(*command, "--out", str(tmp_path / "again"), "--quiet")
    not_a_usage_error(code, err)
    assert code == 0, err
    assert zoo.load_checkpoint(tmp_path / "again").order == 3


def test_the_autocomplete_hint_trains_a_word_model(zoo_cli, text, tmp_path):
    code, _, err = zoo_cli("autocomplete", "--model", "lstm-2x128.sample", "the ca")
    assert code == 1
    out, longer = tmp_path / "words", tmp_path / "longer.txt"
    longer.write_text(text.read_text() * 4)  # enough observations of 200 characters for three splits
    command = command_in(last_line(err), **{"<text file>": str(longer)})
    assert command[:1] == ["train"]
    assert "--task" in command
    code, _, err = zoo_cli(*command, "--out", str(out), "--epochs", "1", "--batch-size", "16", "--quiet")
    not_a_usage_error(code, err)
    assert code == 0, err
    assert zoo.load_checkpoint(out).words is not None


def test_the_pull_hint_is_a_spec_pull_takes(zoo_cli, monkeypatch):
    """`zoo pull` of something that is neither a registry name nor a repository says how to write
    a repository; written so, it goes to the Hub (here to a stand-in that has nothing)."""
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    asked = []

    def snapshot_download(repo_id, revision=None, **kwargs):
        asked.append((repo_id, revision))
        raise LocalEntryNotFoundError("not cached, and no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    code, _, err = zoo_cli("pull", "no-such-model")
    assert code == 1
    form = re.search(r"pulled as (\S+)$", last_line(err))[1]
    assert form == "ORG/NAME@REVISION"
    code, _, err = zoo_cli("pull", form.replace("ORG/NAME", "alice/tiny").replace("REVISION", "main"))
    not_a_usage_error(code, err)
    assert asked == [("alice/tiny", "main")]
    assert "cannot download alice/tiny@main" in last_line(err)


def test_the_pin_a_push_prints_loads(zoo_cli, tmp_path, monkeypatch):
    """After a push, `pin it: hf:REPO@COMMIT`: that spec loads the pushed files (the Hub here a
    folder holding what the push committed)."""
    import huggingface_hub

    import zoo.hub

    commit = "0123456789abcdef0123456789abcdef01234567"
    published = tmp_path / "snapshots" / commit
    monkeypatch.setattr(zoo.hub, "push",
                        lambda upload, repo_id, **kwargs: (commit, sorted(zoo.hub.save(upload, published))))
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo_id, revision=None, **kwargs: str(published))
    code, out, err = zoo_cli("push", "lstm-2x128.sample", "--repo-id", "someone/sample")
    assert code == 0, err
    pin = re.search(r"pin it: (hf:\S+)$", out.strip())[1]
    assert pin == f"hf:someone/sample@{commit}"
    code, out, err = zoo_cli("sample", "--model", pin, "--prime", "The ", "-n", "20", "--seed", "1")
    assert code == 0, err
    assert out.startswith("The ")


# -- --resume, and the other flags a refusal says to add ------------------------------------------------

def train_command(text: Path, out: Path, epochs: int) -> list[str]:
    return ["train", "--model", "lstm-1x8", "--data", str(text), "--out", str(out), "--epochs", str(epochs), *SMALL]


def epochs_of(run: Path) -> int:
    return len(json.loads((run / "run.json").read_text())["history"])


def test_a_run_that_exists_continues_with_resume_as_the_hint_says(zoo_cli, text, tmp_path):
    run = tmp_path / "run"
    code, _, err = zoo_cli(*train_command(text, run, 1))
    assert code == 0, err
    code, _, err = zoo_cli(*train_command(text, run, 2))
    assert code == 1
    assert "pass --resume to continue it" in last_line(err)
    code, _, err = zoo_cli(*train_command(text, run, 2), "--resume")
    assert code == 0, err
    assert epochs_of(run) == 2
    # a run's folder given as --model: "pass its folder as --out with --resume"
    code, _, err = zoo_cli("train", "--model", str(run), "--data", str(text), "--epochs", "3", *SMALL)
    assert code == 1
    assert "pass its folder as --out with --resume" in last_line(err)
    code, _, err = zoo_cli(*train_command(text, run, 3), "--resume")
    assert code == 0, err
    assert epochs_of(run) == 3


def test_an_interrupted_run_continues_as_the_note_says(zoo_cli, text, tmp_path, monkeypatch):
    """Ctrl-C after the first epoch: "add --resume to the same command to continue"."""
    import zoo.trainer

    real = zoo.trainer.train

    def interrupted(*args, log, **kwargs):
        def after_the_first_epoch(line):
            log(line)
            if line.startswith("epoch 1:"):  # logged once the epoch is saved
                raise KeyboardInterrupt
        return real(*args, log=after_the_first_epoch, **kwargs)

    run = tmp_path / "run"
    command = train_command(text, run, 2)
    monkeypatch.setattr(zoo.trainer, "train", interrupted)
    code, _, err = zoo_cli(*command)
    assert code == 130
    note = err.strip().splitlines()[-1]
    assert note.endswith("add --resume to the same command to continue"), err
    monkeypatch.undo()
    code, _, err = zoo_cli(*command, "--resume")
    assert code == 0, err
    assert epochs_of(run) == 2


def test_a_run_stopped_by_a_full_disk_continues_as_the_line_says(zoo_cli, text, tmp_path, monkeypatch):
    real, calls = zoo.fileio._write_to_disk, []

    def full_in_the_second_epoch(fd, data):  # an epoch writes four files: the fifth write is the second's
        calls.append(fd)
        if len(calls) == 5:
            os.close(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    run = tmp_path / "run"
    monkeypatch.setattr(zoo.fileio, "_write_to_disk", full_in_the_second_epoch)
    code, _, err = zoo_cli(*train_command(text, run, 2))
    assert code == 1
    assert "make room, then run the same command with --resume" in last_line(err)
    monkeypatch.undo()
    code, _, err = zoo_cli(*train_command(text, run, 2), "--resume")
    assert code == 0, err
    assert epochs_of(run) == 2


def test_too_small_a_text_for_the_batches_trains_with_what_the_line_says_to_lower(zoo_cli, tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("the cat sat on the mat. " * 8)
    command = ["train", "--model", "lstm-1x8", "--data", str(tiny), "--out", str(tmp_path / "run"), "--epochs", "1",
               "--patience", "0", "--quiet"]
    code, _, err = zoo_cli(*command)
    assert code == 1
    flags = re.findall(r"--[a-z-]+", last_line(err).partition("lower ")[2])
    assert flags == ["--batch-size", "--seq-length"]
    code, _, err = zoo_cli(*command, "--batch-size", "2", "--seq-length", "8")
    assert code == 0, err


@pytest.fixture
def trained(zoo_cli, text, tmp_path):
    """A run trained on a copy of `text`, for the hints about the text a checkpoint records."""
    copy = tmp_path / "text.txt"
    shutil.copy(text, copy)
    run = tmp_path / "run"
    code, _, err = zoo_cli(*train_command(copy, run, 1))
    assert code == 0, err
    return run, copy


@pytest.mark.parametrize("change, says", [
    ("moved", "pass that text with --data FILE"),
    ("changed", "pass --data explicitly"),
    ("unrecorded", "does not record its dataset: pass --data"),
])
def test_the_data_hints_evaluate_with_the_text_given(zoo_cli, trained, change, says):
    run, copy = trained
    model = run
    if change == "moved":
        copy = copy.rename(copy.with_name("elsewhere.txt"))
    elif change == "changed":
        copy.write_text(copy.read_text() + "the end.\n")
    else:
        model = save_checkpoint(zoo.load_checkpoint(run), run.parent / "bare")
    code, _, err = zoo_cli("eval", "--model", str(model), "--resamples", "0", "--json")
    assert code == 1
    message = last_line(err)
    assert message.endswith(says), message
    flag = re.search(r"pass (?:that text with )?(--data)", message)[1]
    code, out, err = zoo_cli("eval", "--model", str(model), "--resamples", "0", "--json", flag, str(copy))  # FILE
    assert code == 0, err
    assert json.loads(out)["nats"] > 0


def test_a_comparison_without_a_reference_runs_with_the_flag_the_line_names(zoo_cli, tmp_path):
    command = ["analyze", "--model", "lstm-2x128.sample", "--analyzer", "char-probs", "--max-chars", "300",
               "--out", str(tmp_path / "report"), "--quiet"]
    code, _, err = zoo_cli(*command)
    assert code == 1
    assert last_line(err).endswith("pass --reference")
    code, _, err = zoo_cli(*command, "--reference", "lstm-2x128.sample")
    assert code == 0, err
    assert (tmp_path / "report" / "report.html").is_file()
