"""Interventions and the ablation analyzer, on a planted model whose answer is known.

The planted LSTM keeps one bit in memory cell 0: a double quote toggles it (on after an opening
quote, off after a closing one), and the head reads it: inside quotes the letters a and b are
likely, outside every character is as likely as any other. Holding cell 0 at zero must cost the
model inside quotes and nothing outside; holding any other cell must cost nothing anywhere. (The
text is read as one stream: a toggle that starts reading inside a quote believes the opposite.)"""

import json
import random

import numpy as np
import pytest
import torch

import zoo

H = 4


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = random.Random(0)
    parts = []
    for _ in range(300):
        parts.append("".join(rng.choice("xy ") for _ in range(rng.randint(3, 12))))
        parts.append('"' + "".join(rng.choice("ab") for _ in range(rng.randint(2, 8))) + '"')
    text = "".join(parts)
    vocab = zoo.Vocab(sorted(set(text)))
    model = zoo.create_model(f"lstm-1x{H}", vocab=vocab).eval()
    q, a, b = (vocab.chars.index(c) for c in '"ab')
    i, f, g, o = (slice(k * H, k * H + 1) for k in range(4))  # unit 0 of each gate block
    layer = model.layers[0]
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        layer.bias_ih[f] = 20  # keep the bit ...
        layer.weight_ih[f, q] = -40  # ... but at a quote, forget it
        layer.bias_ih[i] = -20
        layer.weight_ih[i, q] = 40  # at a quote, write, unless the bit was on (h = tanh(1) = 0.76)
        layer.weight_hh[i, 0] = -60
        layer.bias_ih[g] = 10  # what is written: 1
        layer.bias_ih[o] = 10
        model.head.weight[[a, b, q], 0] = 10  # inside quotes: a, b or the closing quote
    folder = zoo.save_checkpoint(model, tmp_path_factory.mktemp("planted") / "model")
    return model, text, folder


def test_the_planted_cell_carries_the_quote_bit(planted):
    model, text, _ = planted
    ids = torch.from_numpy(model.vocab.encode(text))[None]
    with torch.no_grad():
        c = model.trace(ids, names=["layers.0.c"])["layers.0.c"][0, :, 0].numpy()
    inside = zoo.text_features(text, ["quote"])["quote"]
    assert np.abs(c - inside).max() < 0.05


def test_holding_the_cell_costs_inside_quotes_only(planted):
    model, text, _ = planted
    ids = torch.from_numpy(model.vocab.encode(text))[None]
    targets = ids[0, 1:]
    inside = zoo.text_features(text, ["quote"])["quote"][:-1]

    def losses(edits):
        with torch.no_grad(), model.intervene(edits):
            logits, _ = model(ids)
        return torch.nn.functional.cross_entropy(logits[0, :-1], targets, reduction="none").numpy()

    intact = losses({})
    held = losses({"layers.0.c": {0: 0.0}})
    assert (held - intact)[inside].mean() > 0.5
    assert np.abs(held - intact)[~inside].max() < 1e-3
    for unit in range(1, H):
        assert np.abs(losses({"layers.0.c": {unit: 0.0}}) - intact).max() < 1e-4


def test_the_ablation_analyzer_finds_the_cell_and_its_cost(planted, zoo_cli, tmp_path):
    model, text, folder = planted
    code, out, err = zoo_cli("analyze", "--model", str(folder), "--analyzer", "ablation", "--text", text,
                             "--set", "features=quote", "--set", "kind=zero", "--set", "controls=3",
                             "--set", "min_count=10", "--set", "streams=1", "--out", str(tmp_path / "r"), "--json")
    assert code == 0, err
    summary = json.loads(out)["ablation"]["summary"]
    (row,) = summary["results"]
    assert (row["cell"], row["feature"]) == ("0:0", "quote")
    assert row["on"]["mean"] > 0.5
    assert row["on"]["mean"] > 10 * row["on"]["se"]
    assert abs(row["off"]["mean"]) < 1e-3
    assert row["controls"]["units"] == 3
    assert abs(row["controls"]["on"]["largest"]) < 1e-3
    assert (tmp_path / "r" / "effects.png").stat().st_size > 1000
    assert (tmp_path / "r" / "text.png").stat().st_size > 1000


def test_a_batch_of_variants_equals_each_variant_alone(planted):
    """The analyzer's rows of one batch (and its layers computed once below the intervened one)
    give what each intervention gives when run alone."""
    from zoo_analysis.ablation import _ablated_losses

    model, text, _ = planted
    ids = torch.from_numpy(model.vocab.encode(text))
    rows = [(0, 0), (0, 2)]
    base, changed = _ablated_losses(model, ids, "c", rows, {(0, 0): 0.0, (0, 2): 0.5}, streams=1, chunk=64,
                                    progress=False)
    for r, (unit, value) in enumerate(((0, 0.0), (2, 0.5))):
        with torch.no_grad(), model.intervene({"layers.0.c": {unit: value}}):
            logits, _ = model(ids[None])
        alone = torch.nn.functional.cross_entropy(logits[0, :-1], ids[1:], reduction="none").numpy()
        np.testing.assert_allclose(changed[r], alone, atol=1e-5)
    with torch.no_grad():
        logits, _ = model(ids[None])
    np.testing.assert_allclose(base, torch.nn.functional.cross_entropy(logits[0, :-1], ids[1:], reduction="none"),
                               atol=1e-5)


def test_misuse_is_one_line(planted, zoo_cli, tmp_path):
    _, text, folder = planted
    for setting, fragment in (("cells=0:9", "not in a 1x4 model"), ("cells=x", "layer:unit"),
                              ("features=line-position", "graded")):
        code, _, err = zoo_cli("analyze", "--model", str(folder), "--analyzer", "ablation", "--text", text,
                               "--set", setting, "--out", str(tmp_path / "r"))
        assert code == 1
        assert fragment in err
        assert len(err.strip().splitlines()) == 1
