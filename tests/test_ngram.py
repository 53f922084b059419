"""The KenLM n-gram baseline against KenLM's own query program, and its contract."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.data import build_vocab
from zoo.evaluate import char_losses
from zoo.plugins import plugins

NGram = plugins().get("baseline", "ngram").load()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, request):
    path = tmp_path_factory.mktemp("ngram")
    text = (Path(__file__).parent / "fixtures" / "ngram.txt").read_text(encoding="utf-8")
    train, test = text[:8000], text[8000:9000]
    vocab = build_vocab(train)
    model = NGram.fit(torch.from_numpy(vocab.encode(train)), vocab, order=3, directory=path / "m")
    return model, vocab, torch.from_numpy(vocab.encode(test))


def test_scores_equal_kenlm_query(fitted):
    model, vocab, test = fitted
    words = [model.words[i] for i in test.tolist()]
    query = Path(sys.executable).parent / "query"
    out = subprocess.run([str(query), "-v", "word", str(model.directory / "model.binary")], input=" ".join(words) + "\n",
                         capture_output=True, text=True, check=True).stdout
    printed = [float(field.split()[-1]) for field in out.split("\t") if "=" in field]
    reference = np.array(printed[1:len(words)]) * math.log(10)  # query scores word 1 after <s>; we start at word 2
    ours = model.target_log_probs(test).numpy()
    assert len(ours) == len(reference) == len(words) - 1
    assert np.abs(ours - reference).max() < 1e-5


def test_full_distributions_sum_to_one_and_agree_with_kenlm(fitted):
    model, vocab, test = fitted
    lp = model.log_probs(test)
    assert lp.shape == (len(test), len(vocab))
    assert torch.allclose(lp.exp().sum(1), torch.ones(len(test), dtype=lp.dtype), atol=1e-4)
    # Renormalization only removes the mass KenLM keeps for </s>: the scores barely move.
    picked = lp[:-1].gather(1, test[1:, None])[:, 0]
    assert (picked - model.target_log_probs(test)).abs().max() < 0.05
    chosen = model.chosen_log_probs(test, [0, 3])  # any characters, KenLM's own scores as the targets'
    assert chosen.shape == (len(test) - 1, 2)
    assert (chosen - lp[:-1, [0, 3]]).abs().max() < 0.05
    came = test[1:] == 3
    assert torch.allclose(chosen[came, 1], model.target_log_probs(test)[came])


def test_a_prediction_reads_only_its_order_so_sampling_passes_only_that(fitted):
    from zoo.sample import sample

    model, vocab, test = fitted
    for end in (3, 40, 500):  # the last row from the whole text or from its last `order` characters: the same
        torch.testing.assert_close(model.log_probs(test[:end])[-1], model.log_probs(test[end - model.order:end])[-1])
    a = sample(model, "the ", 120, temperature=0.8, seed=5)
    assert a == sample(model, "the ", 120, temperature=0.8, seed=5)
    assert len(a) == 120
    assert set(a) <= set(vocab.chars)
    greedy = sample(model, "the ", 1, temperature=0)
    assert greedy == vocab.chars[int(model.log_probs(torch.from_numpy(vocab.encode("the ")))[-1].argmax())]


def test_context_crosses_line_breaks(tmp_path):
    """After "a" + newline always comes "x", after "b" + newline "y": only a model whose context
    reaches across the newline can tell which."""
    rng = np.random.default_rng(0)
    text = "".join("a\nx " if c else "b\ny " for c in rng.integers(0, 2, 2000))
    vocab = build_vocab(text)
    model = NGram.fit(torch.from_numpy(vocab.encode(text)), vocab, order=2, directory=tmp_path / "m")
    probs = model.target_log_probs(torch.from_numpy(vocab.encode(" a\nx b\ny"))).exp()
    assert probs[2] > 0.95
    assert probs[6] > 0.95


def test_save_load_and_evaluate_through_the_zoo(fitted, tmp_path):
    model, vocab, test = fitted
    model.save(tmp_path / "copy")
    loaded = zoo.load_checkpoint(tmp_path / "copy")
    assert loaded.order == 3
    assert loaded.vocab == vocab
    losses = char_losses(loaded, test)
    assert np.allclose(losses, -model.target_log_probs(test).numpy())
    assert "log_probs" in loaded.capabilities


@pytest.mark.parametrize("order, message", [(0, "at least 1"), (24, "supports up to 24-grams")])
def test_bad_orders(fitted, order, message, tmp_path):
    _, vocab, test = fitted
    with pytest.raises(zoo.ZooError, match=message):
        NGram.fit(test, vocab, order=order, directory=tmp_path / "x")


def test_empty_text(tmp_path):
    vocab = build_vocab("ab")
    with pytest.raises(zoo.ZooError, match="at least two characters"):
        NGram.fit(torch.zeros(0, dtype=torch.long), vocab, order=2, directory=tmp_path / "x")


def test_cli_fit_and_eval(zoo_cli, tiny_text, tmp_path):
    code, _, _ = zoo_cli("baseline", "fit", "ngram", "--order", "2", "--data", str(tiny_text), "--out", str(tmp_path / "ng"), "--quiet")
    assert code == 0
    _, out, _ = zoo_cli("eval", "--model", str(tmp_path / "ng"), "--json")
    import json

    result = json.loads(out)
    assert 0 < result["nats"] < math.log(16)
    code, out, _ = zoo_cli("info", str(tmp_path / "ng"))
    assert code == 0, out
    assert "  baseline     ngram: order 2, kenlm_order 3, smoothing modified Kneser-Ney" in out
    assert f"  metrics      test_nats {result['nats']:.4f}".rstrip("0") in out  # what eval recorded
    code, out, _ = zoo_cli("sample", "--model", str(tmp_path / "ng"), "--prime", "the ", "-n", "40", "--seed", "1")
    assert code == 0
    assert out.startswith("the ")
    assert len(out) == len("the ") + 40 + 1


@pytest.mark.parametrize("present, fragment", [("config.json", "already holds a model"), ("notes.txt", "holds other files")])
def test_cli_fit_never_writes_beside_other_files(zoo_cli, tiny_text, tmp_path, present, fragment):
    (tmp_path / "ng").mkdir()
    (tmp_path / "ng" / present).write_text("keep me")
    code, _, err = zoo_cli("baseline", "fit", "ngram", "--order", "2", "--data", str(tiny_text), "--out", str(tmp_path / "ng"), "--quiet")
    assert code == 1
    assert fragment in err
    assert [p.name for p in (tmp_path / "ng").iterdir()] == [present]
    assert (tmp_path / "ng" / present).read_text() == "keep me"
