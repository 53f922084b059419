r"""Connectivity horizons of several models over many windows of their test split: the distance
back that holds 50 % and 90 % of a target's connectivity mass (mean and quartiles), and the
share of the mass at each distance, per model, drawn together in one figure. One window is what
the connectivity analyzer computes once; this script repeats it so that models compare by
numbers that do not depend on one passage.

Character models: `--windows` windows of `--length` characters spread evenly over the test split,
each read from the zero state; only targets with at least `--min-context` characters before them
in their window count, so a short window does not cap a long horizon. Word (autocomplete)
models: the first `--windows` test observations, every target (as the article's figure), and
also the share of the mass on the characters before the word being typed.

    python studies/oracles-and-horizons/connectivity_horizons.py runs/lstm-2x128.warpeace-lf \
        runs/gru-2x128.warpeace-lf runs/nlstm-2x128.warpeace-lf \
        --figure studies/oracles-and-horizons/figures/wp-horizons.png
    python studies/oracles-and-horizons/connectivity_horizons.py runs/autocomplete/gru-2x128 \
        runs/autocomplete/lstm-2x128 --windows 20
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch
from zoo_analysis.connectivity import connectivity_matrix, horizons, shares_by_distance
from zoo_autocomplete import data as ac

import zoo
from zoo.checkpoint import checkpoint_dir, read_config
from zoo.data import encoded_splits, load_corpus


def character_windows(model, saved, windows: int, length: int, min_context: int):
    """(conn [T, T], first scored target, None) per window of a character model's test split."""
    dataset = saved["dataset"]
    corpus = load_corpus(dataset["source"], dataset["line_endings"], dataset["split"], progress=False)
    test = encoded_splits(corpus, model.vocab)[3]
    if len(test) < length + 2:
        sys.exit(f"the test split has {len(test):,} characters, fewer than one window of --length {length}")
    starts = np.linspace(0, len(test) - length - 2, windows).astype(int)
    for start in starts:
        conn, _ = connectivity_matrix(model, test[start:start + length + 1])
        yield conn.numpy(), min_context, None


def word_windows(model, saved, windows: int):
    """(conn, 0, letters of the word read so far) per test observation of a word model."""
    dataset = saved["dataset"]
    corpus = load_corpus(dataset["source"], split=dataset["split"], progress=False)
    for observation in ac.rebuild(corpus, model.words, saved).test[:windows]:
        encoded = ac.encode([observation], model.words)
        ids = torch.from_numpy(encoded.chars[0].astype(np.int64))
        targets = torch.from_numpy(encoded.targets[0].astype(np.int64))
        conn, _ = connectivity_matrix(model, ids, targets=targets)
        yield conn.numpy(), 0, encoded.known()[0]


def measure(run: str, windows: int, length: int, min_context: int) -> dict:
    model = zoo.load_checkpoint(run)
    saved = read_config(checkpoint_dir(run))
    words = "words" in model.capabilities
    found = (word_windows(model, saved, windows) if words
             else character_windows(model, saved, windows, length, min_context))
    h50, h90, shares, beyond = [], [], [], []
    for conn, first, known in found:
        half, most = horizons(conn, (0.5, 0.9))
        h50.append(half[first:])
        h90.append(most[first:])
        share = shares_by_distance(conn)[first:]
        shares.append(share[:, :first + 1] if first else share)  # distances every kept target has
        if known is not None:  # mass beyond the letters of the current word read so far
            back = np.arange(len(conn))[:, None] - np.arange(len(conn))[None, :]
            beyond.append((conn * (back > known[:, None])).sum(1) / np.maximum(conn.sum(1), 1e-300))
    measured = len(h50)  # fewer than asked where a word model has fewer test observations
    h50, h90 = np.concatenate(h50), np.concatenate(h90)
    width = min(s.shape[1] for s in shares)
    curve = np.nanmean(np.concatenate([s[:, :width] for s in shares]), axis=0)
    result = {"run": run, "arch": model.config.arch, "layers": model.config.layers, "hidden": model.config.hidden,
              "windows": measured, "targets": int(len(h50)),
              "horizon_50": {"mean": float(h50.mean()), "quartiles": np.percentile(h50, [25, 50, 75]).tolist()},
              "horizon_90": {"mean": float(h90.mean()), "quartiles": np.percentile(h90, [25, 50, 75]).tolist()},
              "mass_by_distance": curve.tolist()}
    if beyond:
        result["mass_before_word"] = float(np.concatenate(beyond).mean())
    return result


def figure(results: list[dict], path: str) -> None:
    from zoo.report import new_figure, png

    fig = new_figure(10, 3.6)
    left, right = fig.subplots(1, 2)
    for j, r in enumerate(results):
        curve = np.asarray(r["mass_by_distance"])
        label = f"{r['arch']} {r['layers']}x{r['hidden']}"
        left.plot(np.arange(len(curve)), np.cumsum(curve), color=f"C{j}", label=label)
        right.semilogy(np.arange(len(curve)), curve, color=f"C{j}", label=label)
    left.set(xlabel="distance back d (characters)", ylabel="mean share of mass within d", ylim=(0, 1.02),
             title="connectivity mass within d")
    right.set(xlabel="distance back d (characters)", ylabel="mean share of mass at d", title="mass at each distance")
    left.legend()
    with open(path, "wb") as out:
        out.write(png(fig))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="checkpoint or run directories")
    parser.add_argument("--windows", type=int, default=30, help="windows (word models: observations) per model")
    parser.add_argument("--length", type=int, default=300, help="characters per window (character models)")
    parser.add_argument("--min-context", type=int, default=100,
                        help="character models: score targets with at least this many characters before them")
    parser.add_argument("--figure", help="write the models' mass-by-distance curves to this PNG")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args()
    if not 0 <= args.min_context < args.length:
        parser.error("--min-context must be below --length")
    results = []
    for run in args.runs:
        r = measure(run, args.windows, args.length, args.min_context)
        results.append(r)
        q50, q90 = r["horizon_50"]["quartiles"], r["horizon_90"]["quartiles"]
        extra = f"; mass before the current word {r['mass_before_word']:.1%}" if "mass_before_word" in r else ""
        print(f"{run}: {r['targets']:,} targets in {r['windows']} windows; horizon 50 % {r['horizon_50']['mean']:.2f} "
              f"(quartiles {q50[0]:.0f}/{q50[1]:.0f}/{q50[2]:.0f}), 90 % {r['horizon_90']['mean']:.2f} "
              f"({q90[0]:.0f}/{q90[1]:.0f}/{q90[2]:.0f}) characters{extra}")
    if args.figure:
        figure(results, args.figure)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
