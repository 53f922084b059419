"""Scoring a long text: one sequence (batch 1) against rows of one batch, each warmed up first.

`zoo eval` and the analyzers that need every character's probability read a split as `--streams`
rows at once, each starting `warmup` characters before the stretch it scores
(`zoo.evaluate.char_losses`). This prints, for each setting, the seconds, the speed-up over one
sequence, and how far the mean cross-entropy and the per-character losses move. Target: at least
10x faster on a CPU, and the mean within 1e-4 nats of the one-sequence figure.

    python benchmarks/scoring.py --model lstm-3x512.warpeace --data warpeace.txt
    python benchmarks/scoring.py --model lstm-2x128.sample --settings 16x500,64x1000,128x300
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import zoo
from zoo.checkpoint import read_config
from zoo.data import trained_corpus
from zoo.evaluate import char_losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lstm-2x128.sample", help="any --model value")
    parser.add_argument("--data", help="the text (default: the one the model was trained on)")
    parser.add_argument("--split", default="test", choices=("train", "valid", "test"))
    parser.add_argument("--max-chars", type=int, help="score only the split's first N characters")
    parser.add_argument("--settings", default="32x1000,64x1000,64x300,128x300",
                        help="STREAMSxWARMUP settings to compare with one sequence")
    args = parser.parse_args()
    model = zoo.load(args.model)
    corpus = trained_corpus(read_config(model.checkpoint), args.data, progress=False)
    text = dict(zip(("train", "valid", "test"), corpus.splits()))[args.split][: args.max_chars]
    ids = torch.from_numpy(model.vocab.encode(text))
    print(f"{args.model} on {len(ids):,} characters of {corpus.name}'s {args.split} split, "
          f"{torch.get_num_threads()} threads")
    start = time.perf_counter()
    exact = char_losses(model, ids, streams=1)
    whole = time.perf_counter() - start
    print(f"one sequence: {whole:.1f} s, {exact.mean():.6f} nats/char")
    for setting in args.settings.split(","):
        streams, warmup = map(int, setting.split("x"))
        start = time.perf_counter()
        found = char_losses(model, ids, streams=streams, warmup=warmup)
        seconds = time.perf_counter() - start
        print(f"{streams:>4} streams, warm-up {warmup:>5}: {seconds:6.1f} s ({whole / seconds:4.1f}x), mean "
              f"{found.mean() - exact.mean():+.2e} nats/char, largest change of one character "
              f"{np.abs(found - exact).max():.2e}")


if __name__ == "__main__":
    main()
