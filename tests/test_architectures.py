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


def test_a_cell_or_forward_returning_the_wrong_shape_is_named_as_the_architectures():
    """A plugin's mistake in shapes is said as its own, not as torch's or the zoo's (a loss that
    fails inside torch would otherwise read as a bug in the zoo)."""
    vocab = zoo.Vocab(list("abcde"))
    model = zoo.create_model("lstm-1x8", vocab=vocab)
    real = model.run
    model.run = lambda x, state: (lambda h, s: (h.transpose(0, 1), s))(*real(x, state))  # [T, B, H]
    with pytest.raises(zoo.ZooError, match=r"architecture 'lstm' returned outputs of shape \[7, 2, 8\] for an input "
                                           r"of \[2, 7\]: expected \[batch, time, hidden\] = \[2, 7, 8\]"):
        model(torch.zeros(2, 7, dtype=torch.long))
    model = zoo.create_model("lstm-1x8", vocab=vocab)
    model.forward = lambda ids, state=None: (torch.zeros(*ids.shape, 3, requires_grad=True), None)  # 3 classes, not 5
    ids = torch.randint(0, 5, (400,))
    data = zoo.CharStreams(ids, vocab, batch_size=2, seq_length=10)
    with pytest.raises(zoo.ZooError, match=r"architecture 'lstm' returned logits of shape \[2, 10, 3\] for a batch of "
                                           r"\[2, 10\]: expected \[batch, time, outputs\] = \[2, 10, 5\]"):
        zoo.fit(model, data, zoo.Recipe(max_epochs=1), progress=False, log=lambda line: None)
