"""zoo train / eval / sample from the command line, and their one-line errors."""

import json
import re

import pytest

from zoo.cli import main


def exit_code(*args):
    """Run `zoo` in-process: the code it exits with, 0 where main returns without exiting."""
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code or 0
    return 0


def run(capsys, *args):
    code = exit_code(*args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trained(tiny_text, tmp_path, capsys):
    code, out, err = run(capsys, "train", "--model", "lstm-1x24", "--data", tiny_text, "--out", tmp_path / "run",
                         "--epochs", "2", "--batch-size", "8", "--seq-length", "20", "--quiet", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["epochs"] == 2
    assert len(summary["history"]) == 2
    return tmp_path / "run"


def test_eval_reports_nats_bits_and_error_and_records_it(trained, capsys):
    code, out, _ = run(capsys, "eval", "--model", trained, "--json")
    result = json.loads(out)
    assert code == 0
    assert result["split"] == "test"
    assert result["data"] == "tiny.txt"
    assert result["bits"] == pytest.approx(result["nats"] / 0.6931471805599453)
    assert 0 < result["se_nats"] < 0.1
    assert result["bootstrap_resamples"] == 100
    config = json.loads((trained / json.loads((trained / "run.json").read_text())["best"] / "config.json").read_text())
    assert config["metrics"]["test_nats"] == result["nats"]
    code, out, _ = run(capsys, "eval", "--model", trained, "--on", "valid")
    assert code == 0
    assert "valid cross-entropy" in out
    assert "bits/char" in out


def test_eval_records_only_the_figure_of_the_text_the_model_was_trained_on(trained, tmp_path, capsys):
    def recorded():
        best = json.loads((trained / "run.json").read_text())["best"]
        return json.loads((trained / best / "config.json").read_text())["metrics"].get("test_nats")

    code, out, _ = run(capsys, "eval", "--model", trained, "--json")
    own = json.loads(out)["nats"]
    assert code == 0
    assert recorded() == own
    other = tmp_path / "other.txt"
    other.write_text("the cat sat on the mat.\n" * 40, encoding="utf-8")
    for args in (["--data", other], ["--split", "0.5,0.25,0.25"]):  # another text, another split: not its figure
        code, out, _ = run(capsys, "eval", "--model", trained, *args, "--json")
        assert code == 0
        assert "checkpoint" not in json.loads(out)
        assert json.loads(out)["nats"] != own
        assert recorded() == own


def test_eval_says_how_many_characters_it_read_as_unknown(trained, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("the cat sat ~ on the mat.\n" * 40, encoding="utf-8")  # '~' is not in tiny.txt
    code, out, err = run(capsys, "eval", "--model", trained, "--data", other, "--json")
    assert code == 0
    assert json.loads(out)["unknown_characters"] == 4
    code, out, err = run(capsys, "eval", "--model", trained, "--data", other)
    assert code == 0
    assert err.startswith("note: 4 of them are not in the model's vocabulary")
    code, out, err = run(capsys, "eval", "--model", trained)
    assert code == 0
    assert err == ""


def test_eval_compares_references_on_the_same_characters_with_a_paired_error(trained, tiny_text, tmp_path, capsys):
    earlier = tmp_path / "earlier"  # the same model trained for one epoch: another model, errors in common
    code, _, err = run(capsys, "train", "--model", "lstm-1x24", "--data", tiny_text, "--out", earlier, "--epochs", "1",
                       "--batch-size", "8", "--seq-length", "20", "--quiet")
    assert code == 0, err
    code, out, err = run(capsys, "eval", "--model", trained, "--reference", earlier, "--reference", trained, "--json")
    assert code == 0, err
    result = json.loads(out)
    other, same = result["references"]
    alone = json.loads(run(capsys, "eval", "--model", earlier, "--json")[1])
    assert other["model"] == "earlier"
    assert other["nats"] == pytest.approx(alone["nats"], abs=1e-9)
    assert other["difference_nats"] == pytest.approx(other["nats"] - result["nats"], abs=1e-9)
    # paired: the same resampled characters for both, tighter than the two errors taken apart
    assert 0 < other["difference_se_nats"] < (other["se_nats"] ** 2 + result["se_nats"] ** 2) ** 0.5
    assert same["difference_nats"] == 0
    assert same["difference_se_nats"] == 0
    code, out, err = run(capsys, "eval", "--model", trained, "--reference", earlier)
    assert code == 0
    assert "paired bootstrap" in out
    assert f"difference {other['difference_nats']:+.4f}" in out
    code, out, err = run(capsys, "eval", "--model", trained, "--reference", tmp_path / "nowhere")
    assert code == 1
    assert err.count("\n") == 1
    code, out, err = run(capsys, "eval", "--model", trained, "--block", "10", "--json")
    blocked = json.loads(out)
    assert blocked["bootstrap_block"] == 10
    assert blocked["nats"] == result["nats"]
    assert blocked["se_nats"] != result["se_nats"]
    code, out, err = run(capsys, "eval", "--model", trained, "--block", "10")
    assert "(errors from runs of 10 characters)" in out


def test_resume_keeps_the_runs_recipe(trained, tiny_text, capsys):
    """--resume continues with the run's own recipe (batch 8 x 20 here, not the defaults), only
    --epochs given; a flag that would change the recipe is refused with one line."""
    code, out, err = run(capsys, "train", "--model", "lstm-1x24", "--data", tiny_text, "--out", trained,
                         "--lr", "0.5", "--epochs", "3", "--resume", "--quiet")
    assert code == 1
    assert "lr: 0.002 -> 0.5" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "train", "--model", "lstm-1x24", "--data", tiny_text, "--out", trained,
                         "--epochs", "3", "--resume", "--quiet", "--json")
    assert code == 0, err
    assert json.loads(out)["epochs"] == 3
    config = json.loads((trained / json.loads((trained / "run.json").read_text())["last"] / "config.json").read_text())
    assert (config["recipe"]["batch_size"], config["recipe"]["seq_length"], config["recipe"]["max_epochs"]) == (8, 20, 3)


def test_sample(trained, capsys):
    code, out, err = run(capsys, "sample", "--model", trained, "--prime", "the ", "-n", "40", "--seed", "1")
    assert code == 0
    assert out.startswith("the ")
    assert len(out.rstrip("\n")) == 44
    assert err == ""
    code, out, err = run(capsys, "sample", "--model", trained, "--prime", "the ~~", "-n", "5")  # '~' is not in tiny.txt
    assert code == 0
    assert err.startswith("note: 2 character(s) of --prime are not in the model's vocabulary")


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\xfa"])
def test_train_refuses_bad_text(tmp_path, capsys, content):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    code, out, err = run(capsys, "train", "--model", "lstm-1x8", "--data", path, "--out", tmp_path / "r", "--quiet")
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("zoo: error:")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("args, fragment", [
    (["train", "--model", "lstm-1x8", "--data", "no/such/file.txt"], "no dataset or file named"),
    (["train", "--model", "lstmm-1x8", "--data", "sample", "--epochs", "1"], "unknown model 'lstmm-1x8'"),
    (["eval", "--model", "lstm-4x32"], "model 'lstm-4x32' has no released weights: train one with"),
    (["sample", "--model", "nope-dir"], "unknown model 'nope-dir'"),
    (["eval", "--model", "runs/no-such-run"], "no checkpoint or run directory at runs/no-such-run"),
    (["eval", "--model", __file__], "test_cli_train.py is a file, not a checkpoint or run directory"),
    (["pull", "hf:org/name/extra@abc"], "is not a Hub checkpoint's name"),
])
def test_one_line_errors(capsys, tmp_path, args, fragment):
    code, _, err = run(capsys, *args, *(["--out", tmp_path / "r"] if args[0] == "train" else []))
    assert code == 1
    assert err.count("\n") == 1
    assert fragment in err


def test_architecture_options_from_the_command_line(tmp_path, tiny_text):
    out = tmp_path / "run"
    code = exit_code("train", "--model", "nlstm-1x8", "--data", tiny_text, "--set", "depth=3", "--input", "embedding",
                     "--embed-dim", "4", "--bias", "double", "--epochs", "1", "--batch-size", "4", "--seq-length", "16",
                     "--out", out, "--quiet")
    assert code == 0
    model = json.loads((out / "epochs" / "0001" / "config.json").read_text())["model"]
    assert (model["options"]["depth"], model["input"], model["embed_dim"], model["bias"]) == (3, "embedding", 4, "double")


def test_eval_never_writes_into_a_checkpoint_the_zoo_ships(capsys):
    from zoo.registry import PRETRAINED

    shipped = PRETRAINED / "lstm-2x128.sample"
    before = {p.name: p.read_bytes() for p in shipped.iterdir()}
    code, out, err = run(capsys, "eval", "--model", shipped, "--json", "--resamples", "0")
    assert code == 0, err
    assert "checkpoint" not in json.loads(out)  # not recorded
    assert {p.name: p.read_bytes() for p in shipped.iterdir()} == before


def test_eval_of_a_read_only_checkpoint_prints_its_figures_and_says_they_were_not_recorded(trained, capsys,
                                                                                          monkeypatch):
    def refuse(path, data):  # what a folder the user cannot write gives (root can write anywhere: injected)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("zoo.checkpoint.atomic_write", refuse)
    code, out, err = run(capsys, "eval", "--model", trained, "--json", "--resamples", "0")
    assert code == 0
    assert json.loads(out)["nats"] > 0
    assert "checkpoint" not in json.loads(out)
    assert err.startswith("zoo: warning: the figures were not recorded in")
    assert err.count("\n") == 1
    assert err.rstrip().endswith("config.json: Permission denied")


def test_eval_refuses_a_changed_text_but_not_other_line_endings_asked_for(tiny_text, tmp_path, capsys):
    code, _, err = run(capsys, "train", "--model", "lstm-1x8", "--data", tiny_text, "--line-endings", "crlf",
                       "--out", tmp_path / "crlf", "--epochs", "1", "--batch-size", "8", "--seq-length", "20", "--quiet")
    assert code == 0, err
    code, out, err = run(capsys, "eval", "--model", tmp_path / "crlf", "--line-endings", "lf", "--json", "--resamples", "0")
    assert code == 0, err
    assert json.loads(out)["unknown_characters"] == 0, err  # LF: the model's '\r' is never asked for
    tiny_text.write_text(tiny_text.read_text() + "the end.\n")
    for endings in ((), ("--line-endings", "crlf")):  # the text itself changed: refused, whatever the line endings
        code, out, err = run(capsys, "eval", "--model", tmp_path / "crlf", *endings)
        assert code == 1
        assert "has changed since the model was trained on it" in err


def test_ctrl_c_during_training_says_what_was_kept_and_how_to_go_on(trained, tiny_text, capsys, monkeypatch):
    def interrupted(*args, **kwargs):  # Ctrl-C while the resumed run trains its third epoch
        raise KeyboardInterrupt

    monkeypatch.setattr("zoo.trainer.train", interrupted)
    code, out, err = run(capsys, "train", "--model", "lstm-1x24", "--data", tiny_text, "--out", trained,
                         "--epochs", "3", "--resume", "--quiet")
    assert code == 130
    assert err == f"zoo: interrupted; {trained} keeps its 2 finished epoch(s): run the same command " \
                                  "again to continue\n"


@pytest.mark.parametrize("command", [["train", "--model", "lstm-1x8"], ["baseline", "fit", "ngram", "--order", "2"]])
def test_an_out_folder_that_cannot_be_made_is_one_line(tiny_text, tmp_path, capsys, command):
    (tmp_path / "afile").write_text("keep me")
    code, out, err = run(capsys, *command, "--data", tiny_text, "--out", tmp_path / "afile" / "run", "--quiet")
    assert code == 1, err
    assert err.startswith("zoo: error: cannot make the"), err
    assert "Not a directory" in err, err
    assert err.count("\n") == 1
    assert (tmp_path / "afile").read_text() == "keep me"


def test_a_checkpoint_given_to_train_as_its_model_says_how_to_continue_a_run(trained, tiny_text, capsys):
    code, out, err = run(capsys, "train", "--model", trained, "--data", tiny_text, "--quiet")
    assert code == 1
    assert "not a checkpoint; to continue a run, pass its folder as --out with --resume" in err


def test_a_fit_refused_before_it_writes_leaves_no_folder(tiny_text, tmp_path, capsys):
    code, out, err = run(capsys, "baseline", "fit", "ngram", "--order", "0", "--data", tiny_text,
                         "--out", tmp_path / "new" / "ngram", "--quiet")
    assert code == 1
    assert "must be at least 1" in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("name, setting, message", [
    ("ngram", "bogus=1", "baseline 'ngram' has no parameter bogus (parameters: memory)"),
    ("ngram", "order=3", "baseline 'ngram' has no parameter order"),  # --order's, not --set's
    ("ngram", "memory=-5", "ngram.memory='-5' is not allowed"),
    ("nnn", "hidden=-4", "nnn.hidden=-4 is not allowed"),
    ("nnn", "epochs=abc", "nnn.epochs='abc': expected int"),
    ("nnn", "device=banana", "nnn.device='banana' is not allowed"),
    ("nnn", "directory=x", "baseline 'nnn' has no parameter directory"),
])
def test_a_baseline_parameter_is_checked_before_the_fit(name, setting, message, tiny_text, tmp_path, capsys):
    code, out, err = run(capsys, "baseline", "fit", name, "--order", "2", "--data", tiny_text,
                         "--out", tmp_path / "fit", "--set", setting, "--quiet")
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "fit").exists()


def test_a_baseline_parameter_reaches_the_fit_typed(tiny_text, tmp_path, capsys):
    code, out, err = run(capsys, "baseline", "fit", "nnn", "--order", "2", "--data", tiny_text, "--out", tmp_path / "fit",
                         "--set", "hidden=7", "--set", "epochs=1", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "fit" / "config.json").read_text())["baseline"]["hidden"] == 7
    assert "nnn: n-NN" in run(capsys, "baseline", "fit", "--help")[1]  # the help lists each baseline's parameters


def test_a_published_checkpoint_says_which_text_to_pass(trained, tiny_text, tmp_path, capsys):
    """A Hub-ready folder records its text's name, not where it was: the error names the file and
    its checksum, and --data makes it work."""
    code, _, err = run(capsys, "push", trained, "--repo-id", "alice/tiny", "--to-dir", tmp_path / "hub")
    assert code == 0, err
    code, _, err = run(capsys, "eval", "--model", tmp_path / "hub")
    assert code == 1
    assert "the model was trained on tiny.txt (" in err
    assert "LF line ends, sha256 " in err
    assert "pass that text with --data FILE" in err
    code, out, err = run(capsys, "eval", "--model", tmp_path / "hub", "--data", tiny_text)
    assert code == 0
    assert "test cross-entropy on tiny.txt" in out


def _on_a_terminal(*args: str) -> str:
    """What `zoo ARGS` shows on a 120-column terminal (a pseudo-terminal), all of it."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "zoo", *args], stdin=slave, stdout=slave, stderr=slave,
                               close_fds=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other end closed: the process has ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert process.wait(timeout=120) == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


def test_training_shows_its_progress_within_the_epoch_on_a_terminal(tmp_path, tiny_text):
    """Characters done, their rate and the time left, while the epoch runs; nothing with --quiet."""
    args = ["train", "--model", "lstm-1x8", "--data", str(tiny_text), "--epochs", "1", "--batch-size", "2",
            "--seq-length", "8"]
    shown = _on_a_terminal(*args, "--out", str(tmp_path / "a"))
    bar = [line for line in shown.replace("\r", "\n").splitlines() if line.startswith("epoch 1/1:")]
    assert bar, shown
    assert re.search(r"\d+(\.\d+)?k?/\d+(\.\d+)?k? \[\d\d:\d\d<", bar[-1])  # characters done / all, [elapsed<left
    assert "char/s" in shown
    quiet = _on_a_terminal(*args, "--out", str(tmp_path / "b"), "--quiet")
    assert "char/s" not in quiet
    assert "epoch 1: train" in quiet  # the epoch's line stays as it was
