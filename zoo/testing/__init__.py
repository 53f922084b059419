"""A conformance kit for architecture plugins (the zoo's own included).

Subclass `ArchitectureTests` in your plugin's test suite and give it the architecture's name; every
check below then runs on it, with one pytest id each::

    # tests/test_conformance.py of a plugin
    import pytest
    from zoo.testing import ArchitectureTests

    class TestMGU(ArchitectureTests):
        @pytest.fixture
        def arch(self):
            return "mgu"

The zoo runs the same class over every registered architecture. Override the `option_sets`
fixture to check non-default conventions as well: each entry is passed as ``options=``, and the
defaults are always checked besides them. Bias layouts the architecture does not declare in
`biases` are checked to be refused.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import zoo
from zoo.registry import architecture

VOCAB = 7
HIDDEN = 8
ATOL = 1e-5


def make_model(arch: str, layers: int = 2, seed: int = 0, **overrides: Any):
    """A small float32 model in eval mode with reproducible random weights."""
    torch.manual_seed(seed)
    model = zoo.create_model(f"{arch}-{layers}x{HIDDEN}", vocab_size=VOCAB, **overrides)
    # Larger-than-default weights so the gates leave their linear region and a wrong equation shows.
    # Positional, as the constructor and the trainer call it: the documented `reset_parameters(self, scale)`.
    model.reset_parameters(0.5)
    return model.eval()


def random_ids(batch: int = 2, steps: int = 13, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, steps), generator=torch.Generator().manual_seed(seed))


def assert_close(actual: torch.Tensor, expected: torch.Tensor, what: str, atol: float = ATOL) -> None:
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f"{what}: max abs difference {diff:.3g} > {atol}"


def with_defaults(option_sets) -> tuple[dict[str, Any], ...]:
    """The defaults first, then every other option set: an override adds, it never replaces."""
    return ({}, *(dict(o) for o in option_sets if o))


class ArchitectureTests:
    """Checks every `zoo.RecurrentLM` architecture must pass. Override the `arch` fixture."""

    @pytest.fixture
    def option_sets(self) -> tuple[dict[str, Any], ...]:
        """Conventions to check besides the defaults (override to add your architecture's)."""
        return ()

    @pytest.fixture
    def arch(self) -> str:  # pragma: no cover - always overridden
        raise NotImplementedError("override the `arch` fixture with your architecture's name")

    @pytest.fixture(params=["single", "double"])
    def bias(self, request, arch) -> str:
        if request.param not in architecture(arch).biases:
            pytest.skip(f"{arch} does not implement bias={request.param!r} (checked to be refused instead)")
        return request.param

    @pytest.mark.parametrize("layers", [1, 3])
    def test_trace_matches_fast_path(self, arch, layers, bias, option_sets):
        for options in with_defaults(option_sets):
            model = make_model(arch, layers=layers, bias=bias, options=options)
            ids = random_ids()
            with torch.no_grad():
                logits, state = model(ids)
                for path in ("auto", "loop"):
                    trace = model.trace(ids, path=path)
                    assert_close(trace.logits, logits, f"{path} trace vs fast path logits ({options})")
                    for got, want in zip(trace.state, state):
                        assert_close(got, want, f"{path} trace vs fast path final state ({options})")
                    top = trace[f"layers.{layers - 1}.h"]
                    assert_close(model.head(top), logits, f"{path} trace: the head of the recorded top h")
                auto, loop = model.trace(ids), model.trace(ids, path="loop")
                for name in model.names:
                    assert_close(auto[name], loop[name], f"{name}: trace vs step loop ({options})")

    def test_trace_records_every_name_with_its_shape(self, arch):
        model = make_model(arch, layers=2)
        ids = random_ids(batch=3, steps=5)
        with torch.no_grad():
            trace = model.trace(ids)
        assert list(trace) == list(model.names)
        for name in model.names:
            assert trace[name].shape == (3, 5, HIDDEN), name
        assert set(model.gates) <= set(model.names)
        assert trace.gates == model.gates
        for gate in trace.gates:
            assert trace[gate].min() >= 0.0, f"{gate} is not a gate in [0, 1]"
            assert trace[gate].max() <= 1.0, f"{gate} is not a gate in [0, 1]"

    def test_trace_records_only_what_is_asked(self, arch):
        model = make_model(arch, layers=2)
        with torch.no_grad():
            trace = model.trace(random_ids(), names="layers.1.*")
        assert trace
        assert all(name.startswith("layers.1.") for name in trace)

    def test_chunks_with_carried_state_equal_whole(self, arch, option_sets):
        for options in with_defaults(option_sets):
            model = make_model(arch, layers=2, options=options)
            ids = random_ids(steps=15)
            with torch.no_grad():
                whole, whole_state = model(ids)
                first, state = model(ids[:, :6])
                second, state = model(ids[:, 6:], state)
                one = []  # one character at a time, as sampling runs
                step_state = None
                for t in range(ids.shape[1]):
                    out, step_state = model(ids[:, t : t + 1], step_state)
                    one.append(out)
            assert_close(torch.cat([first, second], 1), whole, f"two chunks vs whole ({options})")
            assert_close(torch.cat(one, 1), whole, f"one step at a time vs whole ({options})")
            for got, want in zip(state, whole_state):
                assert_close(got, want, "carried state")

    def test_log_probs_are_distributions(self, arch):
        model = make_model(arch)
        ids = random_ids(batch=1, steps=9)[0]
        lp = model.log_probs(ids)
        assert lp.shape == (9, VOCAB)
        assert_close(lp.exp().sum(-1), torch.ones(9), "probabilities sum to 1")

    def test_gradients_reach_the_inputs(self, arch):
        model = make_model(arch)
        x = model.embed(random_ids()).detach().requires_grad_(True)
        logits, _ = model.forward_embedded(x)
        logits[:, -1, 0].sum().backward()
        assert x.grad is not None
        assert torch.isfinite(x.grad).all()
        assert x.grad[:, 0].abs().sum() > 0, "the last output does not depend on the first input"
        assert all(p.grad is not None for p in model.parameters() if p.requires_grad)

    def test_save_load_round_trip(self, arch, tmp_path, bias, option_sets):
        for options in with_defaults(option_sets):
            model = make_model(arch, layers=2, bias=bias, options=options)
            model.vocab = zoo.Vocab(list("abcdefg"))
            zoo.save_checkpoint(model, tmp_path / "ckpt")
            loaded = zoo.load_checkpoint(tmp_path / "ckpt")
            assert loaded.config == model.config
            assert loaded.vocab == model.vocab
            ids = random_ids()
            with torch.no_grad():
                assert torch.equal(loaded(ids)[0], model(ids)[0])

    def test_dropout_is_active_only_in_training(self, arch):
        model = make_model(arch, layers=2, dropout=0.5)
        ids = random_ids()
        with torch.no_grad():
            assert torch.equal(model(ids)[0], model(ids)[0])
            model.train()
            torch.manual_seed(0)
            a = model(ids)[0]
            torch.manual_seed(1)
            b = model(ids)[0]
        assert not torch.equal(a, b)

    def test_capabilities_match_what_the_model_offers(self, arch):
        model = make_model(arch)
        caps = model.capabilities
        assert {"log_probs", "trace", "gradients"} <= caps
        assert ("gates" in caps) == bool(model.gates)
        assert ("cells" in caps) == bool(model.cell_names)
        assert set(model.cell_names) <= set(model.internal_names)

    def test_embedding_input(self, arch, tmp_path):
        model = make_model(arch, layers=2, input="embedding", embed_dim=5)
        ids = random_ids()
        with torch.no_grad():
            logits, _ = model(ids)
            for path in ("auto", "loop"):
                assert_close(model.trace(ids, path=path).logits, logits, f"embedding input: {path} trace vs fast path")
        model.vocab = zoo.Vocab(list("abcdefg"))
        zoo.save_checkpoint(model, tmp_path / "emb")
        with torch.no_grad():
            assert torch.equal(zoo.load_checkpoint(tmp_path / "emb")(ids)[0], logits)

    def test_bias_layouts_are_honoured_or_refused(self, arch):
        cls = architecture(arch)
        assert set(cls.biases) <= {"single", "double"}, f"{arch}.biases must name single and/or double"
        assert cls.biases, f"{arch}.biases must name single and/or double"
        counts = {bias: make_model(arch, bias=bias).num_parameters() for bias in cls.biases}
        if len(counts) == 2:
            assert counts["double"] > counts["single"], "bias='double' adds no parameters: is it ignored?"
        for bias in {"single", "double"} - set(cls.biases):
            with pytest.raises(zoo.ZooError, match="not supported"):
                make_model(arch, bias=bias)

    def test_cell_returns_every_declared_internal(self, arch):
        model = make_model(arch, layers=2)
        x = model.embed(random_ids(steps=1))
        for layer in range(2):
            state = tuple(s[layer] for s in model.init_state(x.shape[0]))
            xp = model.project(layer, x if layer == 0 else x.new_zeros(x.shape[0], 1, HIDDEN))[:, 0]
            _, internals = model.cell(layer, xp, state)
            missing = set(model.internal_names) - set(internals)
            assert not missing, (f"cell() of layer {layer} returned no {', '.join(sorted(missing))}, "
                                 "which internal_names declares")

    def test_interventions_replace_internals_and_flow_on(self, arch):
        """`intervene`: replacing nothing changes nothing; a unit set at one step reads as set in
        the trace, the steps before it are as they were, later predictions move (for the layer's
        output `h`), and outside the block the model is itself again. Unknown names and units are
        refused in one line."""
        model, ids = make_model(arch), random_ids()
        names = model.intervenable
        assert "layers.0.h" in names
        assert "intervene" in model.capabilities
        with torch.no_grad():
            base = model.trace(ids)
            with model.intervene({name: (lambda value, t: value) for name in names}):
                assert_close(model.trace(ids).logits, base.logits, "an intervention that replaces nothing")
            for name in names:
                with model.intervene({name: {0: 0.25}}, at=[3]):
                    edited = model.trace(ids, names=[name])
                    logits, _ = model(ids)
                assert torch.all(edited[name][:, 3, 0] == 0.25), f"{name}: unit 0 was not replaced at step 3"
                assert_close(edited[name][:, :3], base[name][:, :3], f"{name} before the intervention")
                assert_close(logits, edited.logits, f"{name}: forward and trace under one intervention")
                if name == "layers.0.h":
                    assert (logits[:, 3:] - base.logits[:, 3:]).abs().max() > 1e-6, "the change did not flow on"
            assert_close(model(ids)[0], base.logits, "the model after the intervention")
        for bad, match in (({"layers.99.h": {0: 0.0}}, "cannot intervene"), ({"layers.0.h": {HIDDEN: 0.0}}, "units")):
            with pytest.raises(zoo.ZooError, match=match), model.intervene(bad):
                pass
