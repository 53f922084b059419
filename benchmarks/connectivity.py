"""Connectivity cost: the batched computation (one batch row per target, a block of targets per
backward pass) against one backward pass per target, the way a first implementation loops.

Targets: a 200-character window of a 2x128 LSTM in under 1 s on a 2-core CPU (a loop of 200
backward passes took 11.9 s there), and a
1,000-character span of a 3x512 LSTM in under 60 s. Untrained weights cost the same as trained.

    python benchmarks/connectivity.py                                  # 2x128 x 200, with the loop
    python benchmarks/connectivity.py --model lstm-3x512 --length 1000 --no-loop
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from zoo_analysis.connectivity import connectivity_matrix

import zoo
from zoo.data import build_vocab, load_corpus


def loop(model, ids) -> torch.Tensor:
    steps = len(ids) - 1
    out = torch.zeros(steps, steps)
    x0 = model.embed(ids[None, :steps]).detach()
    for t in range(steps):
        x = x0.clone().requires_grad_(True)
        logits, _ = model.forward_embedded(x)
        (grad,) = torch.autograd.grad(logits[0, t, ids[t + 1]], x)
        out[t] = (grad[0] ** 2).sum(-1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lstm-2x128")
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--block", type=int, default=32)
    parser.add_argument("--method", default="auto", choices=("auto", "sweep", "rows"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-loop", action="store_true", help="skip the one-pass-per-target reference")
    args = parser.parse_args()
    corpus = load_corpus("sample", progress=False)
    vocab = build_vocab(corpus.splits()[0])
    torch.manual_seed(0)
    model = zoo.create_model(args.model, vocab=vocab).eval()
    ids = torch.from_numpy(vocab.encode(corpus.splits()[2][: args.length + 1]))
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        batched, _ = connectivity_matrix(model, ids, method=args.method, block=args.block)
        times.append(time.perf_counter() - start)
    print(f"{args.model}, {args.length} targets x {args.length} inputs, {torch.get_num_threads()} threads: "
          f"{args.method} {statistics.median(times):.2f} s (median of {args.repeats})")
    if not args.no_loop:
        start = time.perf_counter()
        reference = loop(model, ids)
        print(f"  one backward pass per target: {time.perf_counter() - start:.2f} s; "
              "largest relative difference "
              f"{float((batched.float() - reference).abs().max() / reference.abs().max()):.1e}")


if __name__ == "__main__":
    main()
