"""The trainer's overhead: `zoo.trainer.train` against a bare PyTorch loop over the same model and data.

Both run the paper's step (forward, cross-entropy, backward, element-wise clipping at 5, RMSprop)
on the same windows of the same text; the trainer adds its bookkeeping (state detaching, loss
accumulation, progress bar, validation excluded). Epochs alternate between the two and the
medians are compared. Target: bookkeeping under 5 %.

    python benchmarks/training.py                         # lstm-2x128 on the bundled sample
    python benchmarks/training.py --model lstm-3x512 --epochs 2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

import zoo
from zoo.data import bptt_batches, build_vocab, load_corpus
from zoo.recipe import Recipe
from zoo.trainer import train


def bare_epoch(model, x_all, y_all, recipe: Recipe) -> float:
    """chars/s of the plainest loop a user would write for the same recipe."""
    opt = torch.optim.RMSprop(model.parameters(), lr=recipe.lr, alpha=recipe.rmsprop_alpha, eps=1e-8)
    V = model.config.vocab_size
    state = None
    start = time.perf_counter()
    for w in range(x_all.shape[0]):
        logits, state = model(x_all[w], state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, V), y_all[w].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), recipe.clip_value)
        opt.step()
    return x_all.numel() / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lstm-2x128")
    parser.add_argument("--data", default="sample")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs of each")
    args = parser.parse_args()
    corpus = load_corpus(args.data, progress=False)
    recipe = Recipe(max_epochs=1, patience=0)
    train_text = corpus.splits()[0]
    vocab = build_vocab(train_text)
    x_all, y_all = bptt_batches(torch.from_numpy(vocab.encode(train_text)), recipe.batch_size, recipe.seq_length)
    bare_rates, zoo_rates = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.epochs + 1):  # the first round warms up
            torch.manual_seed(0)
            model = zoo.create_model(args.model, vocab=vocab).train()
            bare = bare_epoch(model, x_all, y_all, recipe)
            result = train(args.model, corpus, recipe, f"{tmp}/run{i}", device="cpu", progress=True,
                           log=lambda line: None)
            if i:
                bare_rates.append(bare)
                zoo_rates.append(result.history[0]["chars_per_s"])
    b, z = statistics.median(bare_rates), statistics.median(zoo_rates)
    print(f"{args.model} on {corpus.name}, batch {recipe.batch_size} x {recipe.seq_length}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"  bare loop      {b:>10,.0f} chars/s")
    print(f"  zoo trainer    {z:>10,.0f} chars/s   ({(b - z) / b * 100:+.1f} % bookkeeping)")


if __name__ == "__main__":
    main()
