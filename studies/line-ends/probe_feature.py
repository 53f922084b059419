r"""Is a text feature written anywhere in a model's state, if not in one cell? A linear probe: a
ridge regression from all units of each recorded state (``layers.*.h`` and, where the model has
them, ``layers.*.c``), and from all of them together, to the feature (default: the column,
`line-position`), fitted on the first half of the text and scored (R^2) on the second half. The
`cells` analyzer asks whether one cell follows a feature; this asks whether any linear readout of
the state does.

    python studies/line-ends/probe_feature.py runs/le/lf-seed0 runs/le/crlf-seed0 --max-chars 120000

Each model reads the start of its own test split (its recorded text, line endings and split) from
the zero state, as one stream.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import zoo
from zoo.analysis import text_features
from zoo.checkpoint import checkpoint_dir, read_config
from zoo.data import load_corpus


def r_squared(states: np.ndarray, target: np.ndarray, ridge: float, skip: int) -> float:
    """R^2 on the second half of a ridge fit on the first (after `skip` warm-up steps)."""
    x = np.c_[states, np.ones(len(states))]
    half = len(x) // 2
    fit, held = slice(skip, half), slice(half, None)
    weights = np.linalg.solve(x[fit].T @ x[fit] + ridge * np.eye(x.shape[1]), x[fit].T @ target[fit])
    residual = target[held] - x[held] @ weights
    return float(1 - (residual ** 2).mean() / target[held].var())


def probe(run: str, feature: str, cap: float, max_chars: int, ridge: float) -> dict:
    model = zoo.load_checkpoint(run).eval()
    dataset = read_config(checkpoint_dir(run))["dataset"]
    text = load_corpus(dataset["source"], dataset["line_endings"], dataset["split"], progress=False).splits()[2]
    text = text[:max_chars]
    target = np.minimum(text_features(text, [feature])[feature].astype(np.float64), cap)
    with torch.no_grad():
        trace = model.trace(torch.from_numpy(model.vocab.encode(text))[None], names=["layers.*.h", "layers.*.c"])
    states = {name: values[0].double().numpy() for name, values in trace.items()}
    found = {name: r_squared(x, target, ridge, skip=2000) for name, x in states.items()}
    found["all"] = r_squared(np.concatenate(list(states.values()), 1), target, ridge, skip=2000)
    return {"model": run, "line_endings": dataset["line_endings"], "r2": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="checkpoint or run directories of recurrent character models")
    parser.add_argument("--feature", default="line-position", help="a registered text feature (zoo list)")
    parser.add_argument("--cap", type=float, default=80, help="feature values above this count as this")
    parser.add_argument("--max-chars", type=int, default=120_000, help="characters of the test split read")
    parser.add_argument("--ridge", type=float, default=1e-2, help="the ridge penalty")
    args = parser.parse_args()
    for run in args.runs:
        found = probe(run, args.feature, args.cap, args.max_chars, args.ridge)
        print(f"{found['model']} ({found['line_endings']}): R^2 of {args.feature} "
              + ", ".join(f"{name} {value:.3f}" for name, value in found["r2"].items()))


if __name__ == "__main__":
    main()
