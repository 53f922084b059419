"""Training, resumption to the bit, early stopping, evaluation and sampling on tiny texts."""

import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import safetensors.torch
import torch

import zoo
from zoo.data import load_corpus
from zoo.evaluate import char_losses, next_probabilities, summarize
from zoo.recipe import Recipe
from zoo.sample import sample
from zoo.trainer import train

SMALL = {"batch_size": 8, "seq_length": 20, "patience": 0}


def quiet(*args, **kwargs):
    return train(*args, **kwargs, progress=False, log=lambda line: None)


def weights(run):
    path = run / json.loads((run / "run.json").read_text())["last"] / "model.safetensors"
    return safetensors.torch.load_file(path)


def test_training_lowers_the_loss(tiny_text, tmp_path):
    corpus = load_corpus(str(tiny_text))
    result = quiet("lstm-1x32", corpus, Recipe(max_epochs=3, **SMALL), tmp_path / "run")
    valid = [h["valid_nats"] for h in result.history]
    assert valid[-1] < valid[0] - 0.3
    assert valid[0] < math.log(len(result.model.vocab))
    config = json.loads((tmp_path / "run" / "epochs" / "0003" / "config.json").read_text())
    assert config["dataset"]["sha256"] == corpus.sha256
    assert config["recipe"]["batch_size"] == 8
    assert config["metrics"]["epoch"] == 3


@pytest.mark.parametrize("arch", ["lstm", "gru", "nlstm"])
def test_resume_is_bit_identical(tiny_text, tmp_path, arch):
    corpus = load_corpus(str(tiny_text))
    recipe = dict(dropout=0.2, **SMALL)  # dropout: the random generator's state must carry over too
    quiet(f"{arch}-2x16", corpus, Recipe(max_epochs=3, **recipe), tmp_path / "whole")
    quiet(f"{arch}-2x16", corpus, Recipe(max_epochs=2, **recipe), tmp_path / "parts")
    quiet(f"{arch}-2x16", corpus, Recipe(max_epochs=3, **recipe), tmp_path / "parts", resume=True)
    whole, parts = weights(tmp_path / "whole"), weights(tmp_path / "parts")
    assert whole.keys() == parts.keys()
    assert all(torch.equal(whole[k], parts[k]) for k in whole)


def test_resume_of_a_finished_run_says_there_is_nothing_to_train(tiny_text, tmp_path):
    corpus = load_corpus(str(tiny_text))
    quiet("rnn-1x8", corpus, Recipe(max_epochs=2, **SMALL), tmp_path / "run")
    before = (tmp_path / "run" / "run.json").read_text()
    lines = []
    result = train("rnn-1x8", corpus, Recipe(max_epochs=2, **SMALL), tmp_path / "run", resume=True, progress=False,
                   log=lines.append)
    assert lines == [f"{tmp_path / 'run'} has trained 2 epochs (--epochs 2): nothing to train"]
    assert result.epochs == 2
    assert (tmp_path / "run" / "run.json").read_text() == before


def test_resume_after_kill_9(tiny_text, tmp_path):
    """A run killed mid-epoch resumes from its last finished epoch and ends where an
    uninterrupted run ends, to the bit."""
    args = [sys.executable, "-m", "zoo", "train", "--model", "gru-1x48", "--data", str(tiny_text), "--quiet",
            "--epochs", "4", "--batch-size", "4", "--seq-length", "16", "--patience", "0"]
    subprocess.run([*args, "--out", str(tmp_path / "whole")], check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen([*args, "--out", str(tmp_path / "killed")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_file = tmp_path / "killed" / "run.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (run_file.exists() and "0002" in run_file.read_text()):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert "0004" not in run_file.read_text(), "the run finished before it could be killed"
    subprocess.run([*args, "--out", str(tmp_path / "killed"), "--resume"], check=True, capture_output=True, timeout=300)
    whole, resumed = weights(tmp_path / "whole"), weights(tmp_path / "killed")
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)


def test_resume_refuses_other_data_or_recipe(tiny_text, tmp_path):
    corpus = load_corpus(str(tiny_text))
    quiet("rnn-1x8", corpus, Recipe(max_epochs=1, **SMALL), tmp_path / "run")
    with pytest.raises(zoo.ZooError, match="already holds a run"):
        quiet("rnn-1x8", corpus, Recipe(max_epochs=2, **SMALL), tmp_path / "run")
    with pytest.raises(zoo.ZooError, match="different recipe \\(lr"):
        quiet("rnn-1x8", corpus, Recipe(max_epochs=2, lr=0.1, **SMALL), tmp_path / "run", resume=True)
    other = load_corpus(str(tiny_text), line_endings="crlf")
    with pytest.raises(zoo.ZooError, match="other data"):
        quiet("rnn-1x8", other, Recipe(max_epochs=2, **SMALL), tmp_path / "run", resume=True)
    with pytest.raises(zoo.ZooError, match="trains rnn-1x8, not gru-1x8"):
        quiet("gru-1x8", corpus, Recipe(max_epochs=2, **SMALL), tmp_path / "run", resume=True)
    with pytest.raises(zoo.ZooError, match="nothing to resume"):
        quiet("rnn-1x8", corpus, Recipe(max_epochs=2, **SMALL), tmp_path / "empty", resume=True)


def test_a_folder_of_other_files_is_not_made_a_run(tiny_text, tmp_path):
    corpus = load_corpus(str(tiny_text))
    mine = tmp_path / "experiments"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(zoo.ZooError, match=r"holds other files \(notes.txt\)"):
        quiet("rnn-1x8", corpus, Recipe(max_epochs=1, **SMALL), mine)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "steps").mkdir()  # what a run killed in its first epoch leaves
    quiet("rnn-1x8", corpus, Recipe(max_epochs=1, **SMALL), tmp_path / "empty")
    assert (tmp_path / "empty" / "run.json").is_file()


def test_one_process_trains_a_run_at_a_time(tiny_text, tmp_path):
    from zoo.runs import hold_run

    corpus = load_corpus(str(tiny_text))
    run = tmp_path / "run"
    quiet("rnn-1x8", corpus, Recipe(max_epochs=1, **SMALL), run)
    # as a training process holds it; another open of the directory is refused the same
    with hold_run(run), pytest.raises(zoo.ZooError, match="is being trained by another process"):
        quiet("rnn-1x8", corpus, Recipe(max_epochs=2, **SMALL), run, resume=True)
    quiet("rnn-1x8", corpus, Recipe(max_epochs=2, **SMALL), run, resume=True)  # released: it goes on
    assert len(json.loads((run / "run.json").read_text())["history"]) == 2
    with pytest.raises(zoo.ZooError, match="too few for batches"):  # fails before a first epoch ...
        quiet("rnn-1x8", corpus, Recipe(max_epochs=1, **{**SMALL, "batch_size": 10**6}), tmp_path / "new")
    assert not (tmp_path / "new").exists()  # ... and leaves no empty folder behind


def test_early_stopping_and_best_checkpoint(tiny_text, tmp_path):
    corpus = load_corpus(str(tiny_text))
    # A rate this high makes validation loss stop improving at once.
    result = quiet("lstm-1x16", corpus, Recipe(max_epochs=8, lr=0.5, batch_size=8, seq_length=20, patience=1), tmp_path / "run")
    assert result.stopped_early
    assert result.epochs < 8
    pointers = json.loads((tmp_path / "run" / "run.json").read_text())
    assert pointers["best"] == f"epochs/{result.best_epoch:04d}"
    kept = sorted(p.name for p in (tmp_path / "run" / "epochs").iterdir())
    assert kept == sorted({pointers["best"][-4:], pointers["last"][-4:]})  # older epochs are pruned


def test_uniform_model_scores_log_v():
    model = zoo.create_model("lstm-1x8", vocab_size=13)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    losses = char_losses(model, torch.randint(0, 13, (500,)), chunk=64)
    stats = summarize(losses)
    assert len(losses) == 499
    assert stats["nats"] == pytest.approx(math.log(13), abs=1e-6)
    assert stats["bits"] == pytest.approx(math.log2(13), abs=1e-6)
    assert stats["se_nats"] == pytest.approx(0, abs=1e-9)


def test_chunked_evaluation_equals_one_pass():
    torch.manual_seed(0)
    model = zoo.create_model("gru-2x16", vocab_size=9).eval()
    ids = torch.randint(0, 9, (300,))
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
    whole = torch.nn.functional.cross_entropy(logits[0], ids[1:], reduction="none").double().numpy()
    assert np.allclose(char_losses(model, ids, chunk=37), whole, atol=1e-6)
    probs = torch.softmax(logits[0].double(), -1)[:, [4, 0]].numpy()  # any characters, not only those that came
    assert np.allclose(next_probabilities(model, ids, [4, 0], chunk=37), probs, atol=1e-6)


@pytest.mark.parametrize("arch", ["lstm-2x16", "gru-1x12", "rnn-2x10"])
def test_reading_in_streams_equals_one_pass(arch):
    """Rows warmed up on the text before their stretch score every character as one pass does
    (to float noise here: a small random model forgets within the warm-up), in the same order."""
    torch.manual_seed(0)
    model = zoo.create_model(arch, vocab_size=9).eval()
    ids = torch.randint(0, 9, (20_001,))
    exact = char_losses(model, ids, streams=1)
    streamed = char_losses(model, ids, streams=7, warmup=300, chunk=500)
    assert streamed.shape == exact.shape == (20_000,)
    assert np.allclose(streamed, exact, atol=1e-5)
    probs = next_probabilities(model, ids, [4, 0], streams=7, warmup=300)
    assert np.allclose(probs, next_probabilities(model, ids, [4, 0], streams=1), atol=1e-6)


def test_streams_share_out_only_a_long_enough_text():
    """A text shorter than four warm-ups is read as one sequence: no row would be worth its warm-up."""
    torch.manual_seed(0)
    model = zoo.create_model("lstm-1x8", vocab_size=5).eval()
    ids = torch.randint(0, 5, (1_000,))
    assert np.array_equal(char_losses(model, ids, streams=64, warmup=300), char_losses(model, ids, streams=1))
    with pytest.raises(zoo.ZooError, match="streams must be at least 1"):
        char_losses(model, ids, streams=0)


def test_bootstrap_standard_error_matches_theory():
    losses = np.random.default_rng(1).exponential(1.0, 20_000)
    stats = summarize(losses, resamples=200)
    assert stats["se_nats"] == pytest.approx(losses.std() / math.sqrt(len(losses)), rel=0.2)


def test_sampling_is_reproducible_and_uses_the_vocabulary(tiny_text, tmp_path):
    result = quiet("lstm-1x32", load_corpus(str(tiny_text)), Recipe(max_epochs=2, **SMALL), tmp_path / "run")
    model = result.model
    a = sample(model, "the ", 200, temperature=0.8, seed=3)
    assert a == sample(model, "the ", 200, temperature=0.8, seed=3)
    assert len(a) == 200
    assert set(a) <= set(model.vocab.chars)
    assert sample(model, "the ", 50, temperature=0) == sample(model, "the ", 50, temperature=0)


def test_data_parallel_processes_end_with_identical_weights(tiny_text, tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(f"""
import os, torch, safetensors.torch
from zoo.data import load_corpus
from zoo.recipe import Recipe
from zoo.trainer import train
torch.set_num_threads(1)
result = train("lstm-2x16", load_corpus({str(tiny_text)!r}), Recipe(max_epochs=1, batch_size=8, seq_length=20, patience=0),
               {str(tmp_path / "run")!r}, device="cpu", progress=False, log=lambda line: None)
rank = int(os.environ["RANK"])
safetensors.torch.save_file({{k: v.contiguous() for k, v in result.model.state_dict().items()}}, {str(tmp_path)!r} + f"/rank{{rank}}.safetensors")
""")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    a = safetensors.torch.load_file(tmp_path / "rank0.safetensors")
    b = safetensors.torch.load_file(tmp_path / "rank1.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    # And they equal one process training on the whole batch, up to the order of float sums.
    single = quiet("lstm-2x16", load_corpus(str(tiny_text)), Recipe(max_epochs=1, batch_size=8, seq_length=20, patience=0), tmp_path / "one")
    for k, v in single.model.state_dict().items():
        assert torch.allclose(a[k], v, atol=1e-5), k


def test_no_bootstrap_gives_no_standard_error_and_strict_json():
    stats = summarize(np.array([1.0, 2.0, 3.0]), resamples=0)
    assert stats["nats"] == pytest.approx(2.0)
    assert stats["se_nats"] is None
    assert stats["se_bits"] is None
    json.loads(json.dumps(stats), parse_constant=lambda name: pytest.fail(f"{name} in JSON"))


def test_the_log_says_how_long_a_run_may_still_take():
    from zoo.trainer import _EpochClock

    times = iter([0.0, 600.0, 1200.0, 1500.0, 1510.0])
    clock = _EpochClock(now=lambda: next(times))
    assert clock.left(8) == "  (at most 1 h 20 min to go)"  # 600 s an epoch, 8 epochs to the limit
    assert clock.left(3) == "  (at most 30 min to go)"
    assert clock.left(2) == "  (at most 17 min to go)"  # the mean of the last three epochs: 500 s
    assert clock.left(0) == ""  # the last epoch: nothing to estimate


def test_block_bootstrap_allows_for_runs_of_hard_characters():
    from zoo.evaluate import bootstrap_se, summarize

    rng = np.random.default_rng(0)
    noise = rng.normal(size=20_000)
    runs = np.repeat(rng.normal(size=200), 100)  # difficulty that holds for runs of 100 characters
    draws = np.random.default_rng(0)
    expected = np.array([noise[draws.integers(0, len(noise), len(noise))].mean() for _ in range(100)]).std(ddof=1)
    assert bootstrap_se(noise, 100) == pytest.approx(expected)  # block 1: the paper's, as before
    assert bootstrap_se(noise, 100, block=100) == pytest.approx(bootstrap_se(noise, 100), rel=0.3)  # independent anyway
    assert bootstrap_se(runs, 100, block=100) > 5 * bootstrap_se(runs, 100)  # iid draws would understate this
    with pytest.raises(zoo.ZooError, match="leaves fewer than two runs"):  # one block holding everything: no error bar
        bootstrap_se(runs, 100, block=10**6)
    assert summarize(noise, 10, block=7)["bootstrap_block"] == 7
    assert bootstrap_se(noise, 1, block=5) is None


def _study_intervention():
    """The line-ends study's `FreezeInput` callback, loaded from its script as it runs there."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "studies" / "line-ends" / "frozen_input.py"
    spec = importlib.util.spec_from_file_location("frozen_input", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FreezeInput


class FreezeColumn(_study_intervention()):
    """The study's intervention, recording what the loop tells it: whether each start was fresh,
    the steps and epochs, and the frozen column as the run began."""

    def __init__(self, char: str, scale: float = 1.0):
        super().__init__(char, scale)
        self.starts, self.steps, self.epochs = [], [], []

    def on_start(self, model, fresh):
        super().on_start(model, fresh)
        self.starts.append(fresh)
        self.initial = dict(model.named_parameters())["layers.0.weight_ih"][:, model.vocab.chars.index(self.char)]
        self.initial = self.initial.detach().clone()

    def on_step(self, step, model):
        self.steps.append(step)

    def on_epoch(self, entry, model, best):
        self.epochs.append((entry["epoch"], best))


def test_a_callback_intervenes_in_training_and_resumes_with_it(tiny_text, tmp_path):
    """The line-ends study's intervention (its own callback): the frozen column never moves, the
    others learn; the callback sees every step and epoch, and a resumed run calls it again, not
    fresh."""
    corpus = load_corpus(str(tiny_text))
    frozen = FreezeColumn(" ", scale=3.0)
    result = quiet("lstm-1x16", corpus, Recipe(max_epochs=2, **SMALL), tmp_path / "run", callbacks=[frozen])
    steps = len(frozen.steps) // 2
    assert frozen.steps == list(range(1, 2 * steps + 1))
    assert frozen.epochs == [(1, True), (2, True)]
    model = zoo.load(tmp_path / "run")
    w = dict(model.named_parameters())["layers.0.weight_ih"]
    column = model.vocab.chars.index(" ")
    assert torch.equal(w[:, column], frozen.initial)
    assert frozen.initial.abs().max() > Recipe().init_scale  # scaled before it was frozen
    other = model.vocab.chars.index("a")
    untouched = zoo.create_model("lstm-1x16", vocab=model.vocab)
    torch.manual_seed(0)
    untouched.reset_parameters(Recipe().init_scale)
    assert not torch.equal(w[:, other], dict(untouched.named_parameters())["layers.0.weight_ih"][:, other])
    again = FreezeColumn(" ", scale=3.0)
    quiet("lstm-1x16", corpus, Recipe(max_epochs=3, **SMALL), tmp_path / "run", resume=True, callbacks=[again])
    assert again.starts == [False]
    assert again.steps[0] == 2 * steps + 1
    assert torch.equal(dict(zoo.load(tmp_path / "run").named_parameters())["layers.0.weight_ih"][:, column],
                       frozen.initial)
    assert result.epochs == 2


def test_a_diverging_run_stops_with_one_line_and_keeps_its_epochs(tiny_text, tmp_path):
    class Poison(zoo.Callback):  # after the first epoch, the weights become NaN
        poisoned = False

        def on_step(self, step, model):
            if self.poisoned:
                with torch.no_grad():
                    next(model.parameters()).fill_(float("nan"))

        def on_epoch(self, entry, model, best):
            self.poisoned = True

    with pytest.raises(zoo.ZooError, match="training diverged in epoch 2 .*the epochs before it are kept"):
        quiet("rnn-1x8", load_corpus(str(tiny_text)), Recipe(max_epochs=3, **SMALL), tmp_path / "run",
              callbacks=[Poison()])
    assert json.loads((tmp_path / "run" / "run.json").read_text())["last"] == "epochs/0001"
    zoo.load(tmp_path / "run")  # what was kept loads


def test_a_forget_bias_asked_of_a_cell_without_forget_gates_is_said_to_change_nothing(tiny_text, tmp_path):
    corpus = load_corpus(str(tiny_text))
    with pytest.warns(UserWarning, match="architecture 'rnn' has no forget-gate biases .* so it changes nothing"):
        quiet("rnn-1x8", corpus, Recipe(max_epochs=1, forget_bias=1.0, **SMALL), tmp_path / "rnn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an LSTM has them: no word
        quiet("lstm-1x8", corpus, Recipe(max_epochs=1, forget_bias=1.0, **SMALL), tmp_path / "lstm")
