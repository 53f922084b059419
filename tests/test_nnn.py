"""The n-NN baseline learns what its context window allows, and no more."""

import math

import pytest
import torch

import zoo
from zoo.data import build_vocab
from zoo.plugins import plugins

NNN = plugins().get("baseline", "nnn").load()


def pattern(n_chars=4000):
    # "xay" and "xby" alternate at random: after x anything goes, after a/b always y, after y always x.
    g = torch.Generator().manual_seed(0)
    return "".join("xay" if c else "xby" for c in torch.randint(0, 2, (n_chars // 3,), generator=g).tolist())


def test_learns_a_deterministic_pattern(tmp_path):
    text = pattern()
    vocab = build_vocab(text)
    ids = torch.from_numpy(vocab.encode(text))
    model = NNN.fit(ids[:3000], vocab, order=1, directory=tmp_path / "m", valid_ids=ids[3000:], hidden=32,
                    epochs=20, patience=0, batch_size=4, seq_length=32, lr=1e-2, progress=False)
    p = model.target_log_probs(torch.from_numpy(vocab.encode("xayxby"))).exp()
    assert p[1] > 0.95
    assert p[2] > 0.95
    assert p[4] > 0.95
    assert abs(p[0] - 0.5) < 0.1
    assert abs(p[3] - 0.5) < 0.1
    history = model.meta["baseline"]["history"]
    assert history[-1]["valid_nats"] < history[0]["valid_nats"]
    assert abs(-model.target_log_probs(ids[3000:]).mean() - math.log(2) / 3) < 0.05  # the pattern's entropy per char
    from zoo.sample import sample

    text = "x" + sample(model, "x", 600, seed=0)  # drawn from what it learned: the pattern, with coin flips
    assert {text[i + 1] for i, c in enumerate(text[:-1]) if c in "ab"} == {"y"}
    assert {text[i + 1] for i, c in enumerate(text[:-1]) if c == "y"} == {"x"}
    assert 0.35 < text.count("a") / (text.count("a") + text.count("b")) < 0.65


@pytest.mark.parametrize("order", [1, 2, 3])
def test_each_prediction_sees_exactly_n_characters(order):
    from zoo_nnn.model import Net

    net = Net(5, order, 8)
    ids = torch.tensor([[0, 1, 2, 3, 4, 0, 1]])
    base, _ = net(ids)
    for pos in range(ids.shape[1]):
        changed = ids.clone()
        changed[0, pos] = (changed[0, pos] + 1) % 5
        out, _ = net(changed)
        moved = [t for t in range(ids.shape[1]) if not torch.equal(out[0, t], base[0, t])]
        assert moved == list(range(pos, min(pos + order, ids.shape[1])))


def test_log_probs_and_target_agree_and_sum_to_one(tmp_path):
    text = pattern(900)
    vocab = build_vocab(text)
    ids = torch.from_numpy(vocab.encode(text))
    model = NNN.fit(ids, vocab, order=2, hidden=16, epochs=2, progress=False)
    lp = model.log_probs(ids)
    assert torch.allclose(lp.exp().sum(1), torch.ones(len(ids)), atol=1e-5)
    assert torch.allclose(lp[:-1].gather(1, ids[1:, None])[:, 0], model.target_log_probs(ids), atol=1e-6)


def test_bad_order():
    with pytest.raises(zoo.ZooError, match="at least 1"):
        NNN.fit(torch.tensor([0, 1, 0, 1]), build_vocab("ab"), order=0, progress=False)


def test_empty_text():
    with pytest.raises(zoo.ZooError, match="at least two"):
        NNN.fit(torch.zeros(0, dtype=torch.long), build_vocab("ab"), order=2, progress=False)
