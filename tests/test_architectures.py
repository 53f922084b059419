"""Every registered architecture passes the conformance kit, as timm's suite runs over list_models()."""

import pytest
import torch

import zoo
from zoo.testing import ArchitectureTests

# Non-default conventions each architecture must also get right.
EXTRA_OPTIONS = {
    "gru": ({"update": "torch"}, {"reset": "before"}),
    "nlstm": ({"depth": 3}, {"outer_candidate": "tanh"}),
}


class TestEveryArchitecture(ArchitectureTests):
    @pytest.fixture(params=zoo.list_architectures())
    def arch(self, request):
        return request.param

    @pytest.fixture
    def option_sets(self, arch):
        return ({},) + EXTRA_OPTIONS.get(arch, ())


def test_the_four_first_party_architectures_are_registered():
    assert {"rnn", "lstm", "gru", "nlstm"} <= set(zoo.list_architectures())


@pytest.mark.parametrize("arch, gates", [("lstm-2x4", ["layers.0.f", "layers.1.f"]),
                                         ("nlstm-1x4", ["layers.0.nest.0.f", "layers.0.nest.1.f"]),
                                         ("gru-1x4", [])])
def test_forget_biases_are_the_forget_gates(arch, gates):
    """`Recipe.forget_bias` opens exactly the forget gates (TensorFlow's LSTM convention)."""
    model = zoo.create_model(arch, vocab_size=3)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for bias in model.forget_biases():
            bias.add_(2.0)
    trace = model.trace(torch.tensor([[0, 1, 2]]))
    for name in trace.gates:
        expected = torch.sigmoid(torch.tensor(2.0 if name in gates else 0.0))
        torch.testing.assert_close(trace[name], torch.full_like(trace[name], float(expected)))
    assert len(model.forget_biases()) == len(gates)
