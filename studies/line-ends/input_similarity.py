r"""How alike a model's first layer takes two characters in: the cosine similarity of what each
adds to the first layer's gate pre-activations (its input weights applied to the character's
one-hot row or embedding). Near 1, the layer reads them as the same character; random weights
give about 0. The line-ends study uses it to ask whether a model reads the newline as one more
space (studies/line-ends/README.md).

    python studies/line-ends/input_similarity.py runs/le/lf-seed0 runs/le/crlf-seed0 --pairs '\n= ' '\r= ' '\n=\r'

A pair is two characters joined by '='; backslash escapes (\n, \r, \t) are read as in Python.
Characters a model does not have are skipped for it.
"""

from __future__ import annotations

import argparse

import torch

import zoo


def input_vectors(model) -> torch.Tensor:
    """``[V, gates * hidden]``: what each character adds to the first layer's pre-activations."""
    weights = dict(model.named_parameters()).get("layers.0.weight_ih")
    if weights is None:
        raise SystemExit(f"{type(model).__name__} has no layers.0.weight_ih (the built-in architectures' name)")
    ids = torch.arange(len(model.vocab))[None]
    with torch.no_grad():
        return model.embed(ids)[0] @ weights.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="checkpoint or run directories of recurrent character models")
    parser.add_argument("--pairs", nargs="+", default=["\\n= ", "\\r= ", "\\n=\\r", "e= "], help="pairs A=B")
    args = parser.parse_args()
    pairs = [tuple(p.encode().decode("unicode_escape").split("=", 1)) for p in args.pairs]
    for run in args.runs:
        model = zoo.load_checkpoint(run)
        vectors, chars = input_vectors(model), model.vocab.chars
        cosine = torch.nn.functional.cosine_similarity
        found = [f"{a!r}~{b!r} {cosine(vectors[chars.index(a)], vectors[chars.index(b)], dim=0):.3f}"
                 for a, b in pairs if a in chars and b in chars]
        print(f"{run}: " + ", ".join(found))


if __name__ == "__main__":
    main()
