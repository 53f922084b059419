"""Checks behind the differences between table2.py's n-gram figures and the paper's.

Each line fits one n-gram and scores one text, varying one thing against the reproduction:
which text the model is trained on, which split it is scored on, and the line endings.

    python studies/table2/table2_checks.py --warpeace warpeace --linux linux.txt

`--warpeace` takes the dataset name or its file, `--linux` the Linux corpus's file (docs/datasets.md).
"""

from __future__ import annotations

import argparse
import tempfile

import torch

from zoo.data import build_vocab, load_corpus
from zoo.evaluate import char_losses
from zoo.plugins import plugins


def score(train_text: str, test_text: str, order: int) -> float:
    NGram = plugins().get("baseline", "ngram").load()
    vocab = build_vocab(train_text)
    with tempfile.TemporaryDirectory() as tmp:
        model = NGram.fit(torch.from_numpy(vocab.encode(train_text)), vocab, order=order, directory=tmp)
        return float(char_losses(model, torch.from_numpy(vocab.encode(test_text))).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warpeace", required=True, help="War and Peace: the dataset name (warpeace) or its file")
    parser.add_argument("--linux", required=True, help="the Linux corpus's file")
    args = parser.parse_args()
    for name, path, split in (("warpeace", args.warpeace, (0.8, 0.1, 0.1)), ("linux", args.linux, (0.9, 0.05, 0.05))):
        corpus = load_corpus(path, line_endings="crlf", split=split, progress=False)
        train, valid, test = corpus.splits()
        text = corpus.text
        n = len(text)
        for order in (2, 9):
            print(f"{name} n={order}: train -> test (the reproduction)       {score(train, test, order):.3f}")
            print(f"{name} n={order}: train -> validation                  {score(train, valid, order):.3f}")
            print(f"{name} n={order}: train+validation -> test             {score(train + valid, test, order):.3f}")
            # The same amount of held-out text, taken from the middle instead of the end.
            a, b = int(n * 0.45), int(n * 0.45) + len(test)
            print(f"{name} n={order}: rest -> a middle slice of test's size  "
                  f"{score(text[:a] + text[b:], text[a:b], order):.3f}", flush=True)
        lf = load_corpus(path, line_endings="lf", split=split, progress=False).splits()
        print(f"{name} n=9: LF line endings, train -> test          {score(lf[0], lf[2], 9):.3f}", flush=True)


if __name__ == "__main__":
    main()
