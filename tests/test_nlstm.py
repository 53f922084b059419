"""The Nested LSTM against a direct transcription of the Distill appendix's equations."""

import pytest
import torch

from zoo.testing import assert_close, make_model, random_ids


def reference_step(model, x, h, c_outer, c_inner):
    """One step of a 1-layer, depth-2 Nested LSTM written out from the appendix (gates i, f, o, g)."""
    outer, inner = model.layers[0]
    act = torch.tanh if model.config.options["outer_candidate"] == "tanh" else (lambda v: v)
    i, f, o, g = (x @ outer.weight_ih.t() + h @ outer.weight_hh.t() + outer.bias_ih).chunk(4, -1)
    i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), act(g)
    x_in, h_in = i * g, f * c_outer  # the inner LSTM's input and "hidden" state
    w_x, w_h = inner.weight.chunk(2, dim=1)
    ii, fi, oi, gi = (x_in @ w_x.t() + h_in @ w_h.t() + inner.bias_ih).chunk(4, -1)
    ii, fi, oi, gi = torch.sigmoid(ii), torch.sigmoid(fi), torch.sigmoid(oi), torch.tanh(gi)
    c_inner = fi * c_inner + ii * gi
    c_outer = oi * torch.tanh(c_inner)  # the inner cell's output is the outer memory
    h = o * torch.tanh(c_outer)
    return h, c_outer, c_inner


@pytest.mark.parametrize("outer_candidate", ["identity", "tanh"])
def test_matches_the_distill_equations(outer_candidate):
    model = make_model("nlstm", layers=1, options={"outer_candidate": outer_candidate})
    ids = random_ids(batch=2, steps=7)
    with torch.no_grad():
        trace = model.trace(ids)
        x = model.embed(ids)
        h = c_outer = c_inner = torch.zeros(2, model.config.hidden)
        for t in range(ids.shape[1]):
            h, c_outer, c_inner = reference_step(model, x[:, t], h, c_outer, c_inner)
            assert_close(trace["layers.0.h"][:, t], h, f"h at step {t}")
            assert_close(trace["layers.0.nest.0.c"][:, t], c_outer, f"outer memory at step {t}")
            assert_close(trace["layers.0.nest.1.c"][:, t], c_inner, f"inner memory at step {t}")


def test_outer_candidate_convention_changes_the_model():
    ids = random_ids()
    a = make_model("nlstm", options={"outer_candidate": "identity"})
    b = make_model("nlstm", options={"outer_candidate": "tanh"})
    with torch.no_grad():
        assert (a(ids)[0] - b(ids)[0]).abs().max() > 1e-4


def test_depth_is_configurable_and_names_follow_it():
    model = make_model("nlstm", layers=1, options={"depth": 3})
    assert len(model.state_names) == 4  # h and one memory per level
    assert "layers.0.nest.2.c" in model.names
    assert "layers.0.nest.3.c" not in model.names


def test_depth_below_two_is_refused():
    import zoo

    with pytest.raises(zoo.ZooError, match="depth"):
        make_model("nlstm", options={"depth": 1})


def test_gradients_equal_plain_autograd():
    """The sequence-wide weight-gradient product gives the gradients of a plain autograd graph."""
    model = make_model("nlstm", layers=1, bias="double")
    model.train()
    ids = random_ids(batch=3, steps=6)
    target = random_ids(batch=3, steps=6, seed=5)

    def loss_of(logits):
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))

    loss_of(model(ids)[0]).backward()
    fast = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    # Reference: the appendix's equations with every weight used directly (no deferred products).
    outer, inner = model.layers[0]
    x = model.embed(ids)
    h = c_outer = c_inner = torch.zeros(3, model.config.hidden)
    outs = []
    for t in range(ids.shape[1]):
        i, f, o, g = (x[:, t] @ outer.weight_ih.t() + h @ outer.weight_hh.t() + outer.bias_ih + outer.bias_hh).chunk(4, -1)
        i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
        pre = torch.cat([i * g, f * c_outer], 1) @ inner.weight.t() + inner.bias_ih + inner.bias_hh
        ii, fi, oi, gi = pre.chunk(4, -1)
        c_inner = torch.sigmoid(fi) * c_inner + torch.sigmoid(ii) * torch.tanh(gi)
        c_outer = torch.sigmoid(oi) * torch.tanh(c_inner)
        h = o * torch.tanh(c_outer)
        outs.append(h)
    loss_of(model.head(torch.stack(outs, 1))).backward()
    for name, p in model.named_parameters():
        assert_close(fast[name], p.grad, f"gradient of {name}")
