"""RNN, LSTM and GRU against torch.nn given the same weights, and the paper's equations on traces."""

import pytest
import torch
from torch import nn

from zoo.testing import VOCAB, assert_close, make_model, random_ids

TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def torch_twin(model):
    """A torch.nn module with the model's recurrent weights copied in (zero recurrent bias if single)."""
    cfg = model.config
    twin = TORCH[cfg.arch](cfg.input_size, cfg.hidden, num_layers=cfg.layers, batch_first=True)
    with torch.no_grad():
        for index, layer in enumerate(model.layers):
            getattr(twin, f"weight_ih_l{index}").copy_(layer.weight_ih)
            getattr(twin, f"weight_hh_l{index}").copy_(layer.weight_hh)
            getattr(twin, f"bias_ih_l{index}").copy_(layer.bias_ih)
            getattr(twin, f"bias_hh_l{index}").copy_(getattr(layer, "bias_hh", torch.zeros_like(layer.bias_ih)))
    return twin.eval()


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bias", ["single", "double"])
@pytest.mark.parametrize("layers", [1, 3])
def test_equal_to_torch_nn_with_the_same_weights(arch, bias, layers):
    model = make_model(arch, layers=layers, bias=bias)
    twin = torch_twin(model)
    ids = random_ids()
    with torch.no_grad():
        x = model.embed(ids)
        expected, _ = twin(x)
        for path in ("auto", "loop"):
            trace = model.trace(ids, path=path)
            assert_close(trace[f"layers.{layers - 1}.h"], expected, f"{path} trace vs torch.nn.{arch.upper()}")
        logits, _ = model(ids)
        assert_close(logits, model.head(expected), "fast path vs torch.nn")


def test_onehot_input_is_the_identity_embedding():
    model = make_model("lstm")
    ids = random_ids()
    x = model.embed(ids)
    assert x.shape == (*ids.shape, VOCAB)
    assert torch.equal(x.argmax(-1), ids)
    assert torch.equal(x.sum(-1), torch.ones(ids.shape))


def test_lstm_trace_satisfies_the_seed_equations():
    model = make_model("lstm", layers=2)
    with torch.no_grad():
        t = model.trace(random_ids(steps=9))
    for layer in range(2):
        i, f, g, o, c, h = (t[f"layers.{layer}.{n}"] for n in "ifgoch")
        c_prev = torch.cat([torch.zeros_like(c[:, :1]), c[:, :-1]], 1)
        assert_close(c, f * c_prev + i * g, "c = f*c_prev + i*g")
        assert_close(h, o * torch.tanh(c), "h = o*tanh(c)")
        assert (g.abs() <= 1).all()


@pytest.mark.parametrize("reset", ["after", "before"])
def test_gru_update_conventions(reset):
    """paper: h = (1-z) h_prev + z n;  torch: h = z h_prev + (1-z) n; the same weights either way."""
    ids = random_ids(steps=9)
    traces = {}
    for update in ("paper", "torch"):
        model = make_model("gru", layers=1, options={"update": update, "reset": reset})
        with torch.no_grad():
            traces[update] = model.trace(ids)
    paper, torch_ = traces["paper"], traces["torch"]
    assert_close(paper["layers.0.h"], torch_["layers.0.h"], "the update convention does not change the model")
    assert_close(paper["layers.0.z"], 1 - torch_["layers.0.z"], "paper z = 1 - torch z")
    h, z, n = paper["layers.0.h"], paper["layers.0.z"], paper["layers.0.n"]
    h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], 1)
    assert_close(h, (1 - z) * h_prev + z * n, "h = (1-z) h_prev + z n")


def test_gru_reset_position_changes_the_model():
    ids = random_ids()
    outs = []
    for reset in ("after", "before"):
        model = make_model("gru", options={"reset": reset})
        with torch.no_grad():
            outs.append(model(ids)[0])
    assert (outs[0] - outs[1]).abs().max() > 1e-3


@pytest.mark.parametrize("batch, steps, hidden", [(1, 700, 8), (3, 50, 8), (64, 20, 2048)])
def test_linear_scan_equals_the_step_recurrence(batch, steps, hidden):
    from zoo_classic.models import linear_scan

    g = torch.Generator().manual_seed(0)
    a = torch.rand(batch, steps, hidden, generator=g)
    b = torch.randn(batch, steps, hidden, generator=g)
    c = torch.randn(batch, hidden, generator=g)
    expected = []
    for t in range(steps):
        c_next = a[:, t] * (expected[-1] if expected else c) + b[:, t]
        expected.append(c_next)
    assert_close(linear_scan(a, b, c), torch.stack(expected, 1), "blocked scan", atol=1e-5)


def test_long_trace_matches_the_step_loop():
    model = make_model("lstm", layers=2)
    ids = random_ids(batch=1, steps=900)
    with torch.no_grad():
        auto, loop = model.trace(ids), model.trace(ids, path="loop")
    for name in model.names:
        assert_close(auto[name], loop[name], name)
