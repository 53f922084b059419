"""Connectivity horizons of autocomplete models over many test observations (one observation is
one window of the connectivity analyzer, as the article's figure): the mean distance back that
holds 50 % and 90 % of a target's connectivity mass, per model, and the share of the mass on the
characters before the current word (the context a model uses beyond the letters it has read). docs/autocomplete.md reports the output.

    python scripts/autocomplete_horizons.py runs/autocomplete/gru-2x128 runs/autocomplete/lstm-2x128 --observations 50
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import zoo
from zoo import autocomplete as ac
from zoo.checkpoint import checkpoint_dir, read_config
from zoo.data import load_corpus
from zoo_analysis.connectivity import connectivity_matrix, horizons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--observations", type=int, default=50)
    args = parser.parse_args()
    for run in args.runs:
        model = zoo.load_checkpoint(run)
        saved = read_config(checkpoint_dir(run))
        corpus = load_corpus(saved["dataset"]["source"], split=saved["dataset"]["split"], progress=False)
        test = ac.rebuild(corpus, model.words, saved).test
        h50, h90, beyond = [], [], []
        for observation in test[:args.observations]:
            encoded = ac.encode([observation], model.words)
            ids = torch.from_numpy(encoded.chars[0].astype(np.int64))
            conn, _ = connectivity_matrix(model, ids, targets=torch.from_numpy(encoded.targets[0].astype(np.int64)))
            conn = conn.numpy()
            half, most = horizons(conn, (0.5, 0.9))
            h50.append(half)
            h90.append(most)
            # the share of each target's mass at distances beyond the letters of its word read so far
            back = np.arange(len(ids))[:, None] - np.arange(len(ids))[None, :]
            earlier = back > encoded.known()[0][:, None]
            beyond.append((conn * earlier).sum(1) / np.maximum(conn.sum(1), 1e-300))
        h50, h90, beyond = map(np.concatenate, (h50, h90, beyond))
        print(f"{run}: {min(args.observations, len(test))} observations, {len(h50):,} targets; horizon 50 % {h50.mean():.2f}, "
              f"90 % {h90.mean():.2f} characters; mass before the current word {beyond.mean():.1%}")


if __name__ == "__main__":
    main()
