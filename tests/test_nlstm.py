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
    assert "layers.0.nest.2.c" in model.names and "layers.0.nest.3.c" not in model.names


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


def _loss_and_grads(model, ids, target, state=None):
    """Logits, final state and parameter gradients of one training step from `state`."""
    model.zero_grad()
    logits, state = model(ids, None if state is None else tuple(s.detach() for s in state))
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
    loss.backward()
    return logits.detach(), state, {n: p.grad.clone() for n, p in model.named_parameters()}


def _assert_same_run(a, b):
    assert_close(a[0], b[0], "logits")
    for k, (x, y) in enumerate(zip(a[1], b[1])):
        assert_close(x, y, f"final state {k}")
    for name in a[2]:
        assert_close(a[2][name], b[2][name], f"gradient of {name}")


def test_compiled_training_path_equals_the_step_loop():
    """GPU training's path (chunks of steps through torch.compile, a short last chunk plain) gives
    the step loop's logits, state and gradients; run here on the CPU, where compiling also works."""
    from zoo_nlstm import model as nlstm

    model = make_model("nlstm", bias="double").train()  # two layers; dropout 0, so deterministic
    ids, target = random_ids(batch=3, steps=7), random_ids(batch=3, steps=7, seed=5)
    loop = _loss_and_grads(model, ids, target)
    model.compile_devices, model.chunk = ("cpu",), 3  # chunks of 3, 3 (compiled) and 1 (plain)
    _assert_same_run(_loss_and_grads(model, ids, target), loop)
    assert nlstm.compiled_sequence.functions[None] is not nlstm.nested_sequence, "the chunks were not compiled"


def test_a_failed_compile_falls_back_to_the_plain_function(monkeypatch):
    """Where compiling fails (a backend error, as a missing compiler gives), one warning and the
    step math uncompiled: the same numbers, slower."""
    from zoo_nlstm import model as nlstm

    def failing_backend(graph, example_inputs):
        raise RuntimeError("no compiler here")

    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, **options: compile_(fn, backend=failing_backend))
    monkeypatch.setattr(nlstm, "compiled_sequence", nlstm._Compiled())
    torch._dynamo.reset()
    model = make_model("nlstm", layers=1).train()
    ids, target = random_ids(batch=2, steps=6), random_ids(batch=2, steps=6, seed=5)
    loop = _loss_and_grads(model, ids, target)
    model.compile_devices, model.chunk = ("cpu",), 3
    try:
        with pytest.warns(UserWarning, match="torch.compile failed.*no compiler here"):
            _assert_same_run(_loss_and_grads(model, ids, target), loop)
    finally:
        torch._dynamo.reset()
    assert nlstm.compiled_sequence.functions[None] is nlstm.nested_sequence


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run on the GPU machine)")
@pytest.mark.parametrize("mode", [None, "reduce-overhead"])
def test_gpu_training_path_equals_the_step_loop(mode):
    """What training on a GPU runs (compiled chunks; with "reduce-overhead", CUDA graphs too) gives
    the loop's numbers there, over two training steps in a row, the state carried between them."""
    model = make_model("nlstm", bias="double").cuda().train()
    ids, target = random_ids(batch=4, steps=55).cuda(), random_ids(batch=4, steps=55, seed=5).cuda()
    model.compile_devices = ()
    loop = [_loss_and_grads(model, ids, target)]
    loop.append(_loss_and_grads(model, ids, target, loop[0][1]))
    model.compile_devices, model.compile_mode = ("cuda",), mode
    fast = [_loss_and_grads(model, ids, target)]
    fast.append(_loss_and_grads(model, ids, target, fast[0][1]))
    for a, b in zip(fast, loop):
        _assert_same_run(a, b)

