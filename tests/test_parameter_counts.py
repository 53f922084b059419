"""Parameter counts: the paper's per-layer formulas and the Distill appendix's table."""

import pytest
import torch

import zoo

# Weights per layer with n inputs and n units (Karpathy et al.; the review note): RNN 2n², GRU 6n², LSTM 8n².
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}


def recurrent(arch, layers, hidden, **kw):
    with torch.device("meta"):
        model = zoo.create_model(f"{arch}-{layers}x{hidden}", vocab_size=hidden, **kw)
    return model.num_parameters(recurrent_only=True)


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("n", [64, 512])
def test_per_layer_weights_follow_the_seed_formulas(arch, n):
    b = BLOCKS[arch]
    # One-hot input of n characters makes every layer n -> n: 2b n² weights and b n biases each.
    assert recurrent(arch, 3, n) == 3 * (2 * b * n * n + b * n)
    assert recurrent(arch, 3, n, bias="double") == 3 * (2 * b * n * n + 2 * b * n)


@pytest.mark.parametrize("name, expected", [
    ("nlstm-1x600.text8", 5_764_800),
    ("gru-2x600.text8", 4_323_600),
    ("lstm-2x600.text8", 5_764_800),
])
def test_distill_appendix_table(name, expected):
    with torch.device("meta"):
        model = zoo.create_model(name)
    assert model.num_parameters(recurrent_only=True) == expected
    # Embedding 16,200 = 27 characters x 600, as the appendix's table.
    assert model.num_parameters() - expected - sum(p.numel() for p in model.head.parameters()) == 16_200
