"""Print the `models:` entries of registry.yaml for the grid of Karpathy et al. 2015, Table 1.

The LSTM widths are the table's sizes (64, 128, 256, 512). The RNN and GRU widths are those whose
total parameter count (one-hot input, one bias per gate block, softmax head) comes closest to the
LSTM's with the same number of layers, for a nominal vocabulary of 87 characters: "models in each
row have nearly equal number of parameters" (the table's caption). tests/test_registry.py checks
the registry against the same rule.

    python tools/table1_grid.py   # paste the output under `models:`
"""

NOMINAL_VOCAB = 87
SIZES = (64, 128, 256, 512)
BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}
# Table 1 of the paper (test cross-entropy, nats/char): TABLE1[dataset][size][arch] = (1, 2, 3 layers)
TABLE1 = {
    "warpeace": {
        64: {"lstm": (1.449, 1.442, 1.540), "rnn": (1.446, 1.401, 1.396), "gru": (1.398, 1.373, 1.472)},
        128: {"lstm": (1.277, 1.227, 1.279), "rnn": (1.417, 1.286, 1.277), "gru": (1.230, 1.226, 1.253)},
        256: {"lstm": (1.189, 1.137, 1.141), "rnn": (1.342, 1.256, 1.239), "gru": (1.198, 1.164, 1.138)},
        512: {"lstm": (1.161, 1.092, 1.082), "rnn": (None, None, None), "gru": (1.170, 1.201, 1.077)},
    },
    "linux": {
        64: {"lstm": (1.355, 1.331, 1.366), "rnn": (1.407, 1.371, 1.383), "gru": (1.335, 1.298, 1.357)},
        128: {"lstm": (1.149, 1.128, 1.177), "rnn": (1.241, 1.120, 1.220), "gru": (1.154, 1.125, 1.150)},
        256: {"lstm": (1.026, 0.972, 0.998), "rnn": (1.171, 1.116, 1.116), "gru": (1.039, 0.991, 1.026)},
        512: {"lstm": (0.952, 0.840, 0.846), "rnn": (None, None, None), "gru": (0.943, 0.861, 0.829)},
    },
}


def total_parameters(blocks: int, width: int, layers: int, vocab: int = NOMINAL_VOCAB) -> int:
    rec = sum(blocks * width * ((vocab if layer == 0 else width) + width + 1) for layer in range(layers))
    return rec + width * vocab + vocab


def matched_width(arch: str, lstm_size: int, layers: int) -> int:
    if arch == "lstm":
        return lstm_size
    target = total_parameters(4, lstm_size, layers)
    return min(range(1, 4 * lstm_size), key=lambda w: abs(total_parameters(BLOCKS[arch], w, layers) - target))


def main() -> None:
    for dataset, sizes in TABLE1.items():
        for size, archs in sizes.items():
            for arch in ("lstm", "gru", "rnn"):
                for layers in (1, 2, 3):
                    ce = archs[arch][layers - 1]
                    name = f"{arch}-{layers}x{matched_width(arch, size, layers)}.{dataset}"
                    ce_text = "null" if ce is None else f"{ce:.3f}"
                    print(f"  {name}: {{dataset: {dataset}, "
                          f"reference: {{source: karpathy2015-table1, budget: {size}, test_ce: {ce_text}}}}}")


if __name__ == "__main__":
    main()
