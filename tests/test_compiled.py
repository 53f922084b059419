"""The compiled training path (`zoo.compiled`) of the architectures without a fused kernel gives
their step loop's numbers: logits, final state and every gradient."""

import importlib

import pytest
import torch

from zoo.compiled import CompiledSequence
from zoo.testing import assert_close, make_model, random_ids

# The architectures that train through `zoo.compiled`, as (arch, model overrides, the module
# attribute holding their CompiledSequence).
COMPILED = [
    pytest.param("nlstm", {"bias": "double"}, "zoo_nlstm.model:compiled_nested", id="nlstm"),
    pytest.param("gru", {"options": {"reset": "before"}, "bias": "double"}, "zoo_classic.models:compiled_reset_before",
                 id="gru-reset-before"),
]


def _compiled(where: str) -> CompiledSequence:
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)


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


@pytest.mark.parametrize("arch, overrides, where", COMPILED)
def test_compiled_training_path_equals_the_step_loop(arch, overrides, where):
    """GPU training's path (chunks of steps through torch.compile, a short last chunk plain) gives
    the step loop's logits, state and gradients; run here on the CPU, where compiling also works."""
    model = make_model(arch, **overrides).train()  # two layers; dropout 0, so deterministic
    ids, target = random_ids(batch=3, steps=7), random_ids(batch=3, steps=7, seed=5)
    model.compile_devices = ()
    loop = _loss_and_grads(model, ids, target)
    model.compile_devices, model.compile_chunk = ("cpu",), 3  # chunks of 3, 3 (compiled) and 1 (plain)
    _assert_same_run(_loss_and_grads(model, ids, target), loop)
    compiled = _compiled(where)
    assert compiled.functions[None] is not compiled.function, "the chunks were not compiled"


def test_only_training_takes_the_compiled_path():
    model = make_model("gru", options={"reset": "before"})
    x = torch.zeros(1, 1, 1)
    assert not model.eval().compiles(x)  # evaluation, sampling, the analyzers
    assert not model.train().compiles(x)  # the CPU is not among the default compile_devices
    model.compile_devices = ("cpu",)
    assert model.compiles(x)
    with torch.no_grad():
        assert not model.compiles(x)


def test_a_failed_compile_falls_back_to_the_plain_function(monkeypatch):
    """Where compiling fails (a backend error, as a missing compiler gives), one warning and the
    step math uncompiled: the same numbers, slower."""
    from zoo_nlstm import model as nlstm

    def failing_backend(graph, example_inputs):
        raise RuntimeError("no compiler here")

    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, **options: compile_(fn, backend=failing_backend))
    monkeypatch.setattr(nlstm, "compiled_nested", CompiledSequence(nlstm.nested_sequence))
    torch._dynamo.reset()
    model = make_model("nlstm", layers=1).train()
    ids, target = random_ids(batch=2, steps=6), random_ids(batch=2, steps=6, seed=5)
    loop = _loss_and_grads(model, ids, target)
    model.compile_devices, model.compile_chunk = ("cpu",), 3
    try:
        with pytest.warns(UserWarning, match="nested_sequence: torch.compile failed.*no compiler here"):
            _assert_same_run(_loss_and_grads(model, ids, target), loop)
    finally:
        torch._dynamo.reset()
    assert nlstm.compiled_nested.functions[None] is nlstm.nested_sequence


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("mode", [None, "reduce-overhead"])
@pytest.mark.parametrize("arch, overrides, where", COMPILED)
def test_gpu_training_path_equals_the_step_loop(arch, overrides, where, mode):
    """What training on a GPU runs (compiled chunks; with "reduce-overhead", CUDA graphs too) gives
    the loop's numbers there, over two training steps in a row, the state carried between them."""
    model = make_model(arch, **overrides).cuda().train()
    ids, target = random_ids(batch=4, steps=55).cuda(), random_ids(batch=4, steps=55, seed=5).cuda()
    model.compile_devices = ()
    loop = [_loss_and_grads(model, ids, target)]
    loop.append(_loss_and_grads(model, ids, target, loop[0][1]))
    model.compile_devices, model.compile_mode = ("cuda",), mode
    fast = [_loss_and_grads(model, ids, target)]
    fast.append(_loss_and_grads(model, ids, target, fast[0][1]))
    for a, b in zip(fast, loop):
        _assert_same_run(a, b)
