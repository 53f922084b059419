r"""Train as `zoo train` does, but with one character's first-layer input weights frozen at their
initial (random) values: an intervention for the line-ends study (studies/line-ends/README.md). In
LF-trained models the newline comes in nearly as the space does; frozen, it cannot become the
space, and the run shows whether the model then learns where the line ends.

    python studies/line-ends/frozen_input.py --char '\n' --model lstm-2x64 --data warpeace \
        --seed 0 --epochs 20 --out runs/le2/lf-frozen-seed0

The intervention is a training callback (`zoo.Callback`): the gradient of that column of
``layers.0.weight_ih`` is zeroed on every step, so RMSProp never moves it (its update is
proportional to the gradient). `--scale` multiplies that column's initial values (the recipe's
uniform ±0.08) before it is frozen. The run is an ordinary run otherwise (`zoo train --resume`
continues it only without the freeze: resume it with this script).
"""

from __future__ import annotations

import argparse

import torch

import zoo


class FreezeInput(zoo.Callback):
    """Keep one character's first-layer input weights as initialized (times `scale`)."""

    def __init__(self, char: str, scale: float = 1.0):
        self.char, self.scale = char, scale

    def on_start(self, model, fresh: bool) -> None:
        column = model.vocab.chars.index(self.char)
        weights = dict(model.named_parameters())["layers.0.weight_ih"]
        if fresh:  # a resumed run's column is already the frozen one
            with torch.no_grad():
                weights[:, column] *= self.scale

        def keep(grad):
            grad = grad.clone()
            grad[:, column] = 0
            return grad

        weights.register_hook(keep)


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
    corpus = zoo.load_corpus(args.data, line_endings=args.line_endings, progress=False)
    zoo.train(args.model, corpus, zoo.Recipe(max_epochs=args.epochs, seed=args.seed), args.out, resume=args.resume,
              device="cpu", progress=False, callbacks=[FreezeInput(char, args.scale)])


if __name__ == "__main__":
    main()
