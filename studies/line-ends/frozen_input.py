r"""Train as `zoo train` does, but with one character's first-layer input weights frozen at their
initial (random) values: an intervention for the line-ends study (studies/line-ends/README.md). In
LF-trained models the newline comes in nearly as the space does; frozen, it cannot become the
space, and the run shows whether the model then learns where the line ends.

    python studies/line-ends/frozen_input.py --char '\n' --model lstm-2x64 --data warpeace \
        --seed 0 --epochs 20 --out runs/le2/lf-frozen-seed0

The gradient of that column of ``layers.0.weight_ih`` is zeroed on every step, so RMSProp never
moves it (its update is proportional to the gradient). `--scale` multiplies that column's initial
values (the recipe's uniform ±0.08) before it is frozen. The run is an ordinary run otherwise
(`zoo train --resume` continues it only without the freeze: resume it with this script).
"""

from __future__ import annotations

import argparse

import torch

import zoo.registry
from zoo.data import load_corpus
from zoo.recipe import Recipe
from zoo.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--char", required=True,
                        help="the character whose input weights stay as initialized (\\n etc. read as in Python)")
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="a dataset name (warpeace) or a text file")
    parser.add_argument("--line-endings", default="lf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--out", required=True)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the frozen column's initial values by this (the recipe's ±0.08 is a weak input)")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    char = args.char.encode().decode("unicode_escape")
    create = zoo.registry.create_model

    def create_frozen(*a, **k):
        model = create(*a, **k)
        column = model.vocab.chars.index(char)
        weights = dict(model.named_parameters())["layers.0.weight_ih"]

        def keep(grad):
            grad = grad.clone()
            grad[:, column] = 0
            return grad

        weights.register_hook(keep)
        initialize = model.reset_parameters

        def reset_parameters(*a, **k):  # the trainer initializes after creating: scale the column then
            initialize(*a, **k)
            with torch.no_grad():
                weights[:, column] *= args.scale

        model.reset_parameters = reset_parameters
        return model

    zoo.registry.create_model = create_frozen  # zoo.train looks it up when it builds the model
    corpus = load_corpus(args.data, line_endings=args.line_endings, progress=False)
    train(args.model, corpus, Recipe(max_epochs=args.epochs, seed=args.seed), args.out, resume=args.resume,
          device="cpu", progress=False)


if __name__ == "__main__":
    main()
