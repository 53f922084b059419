r"""How character models predict the ends of lines: after each word of the test split (where a
space or a line end comes next), the probability the model gives the line end (the newline, or
in CR LF text the carriage return), by column, against how often the line really ends there.
A model that knows how far the line has come raises it as the line fills; one that does not
gives every word end about the same chance.

    python scripts/line_ends.py runs/le/lf runs/le/crlf --figure docs/figures/wp-line-ends.png

Each model reads its own test split (its recorded text, line endings and split) from the zero
state, as one stream.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import zoo
from zoo.checkpoint import checkpoint_dir, read_config
from zoo.data import load_corpus
from zoo_analysis.features import line_position


def end_probabilities(model, text: str, end: str, chunk: int = 16_384) -> np.ndarray:
    """p(next character = `end` | text[:t+1]) for every t, the state carried across chunks."""
    ids = torch.from_numpy(model.vocab.encode(text))[None]
    column = model.vocab.encode(end)[0]
    state, parts = None, []
    with torch.no_grad():
        for start in range(0, ids.shape[1], chunk):
            logits, state = model(ids[:, start:start + chunk], state)
            parts.append(torch.softmax(logits[0].float(), -1)[:, column].numpy())
    return np.concatenate(parts)


def by_column(run: str, longest: int) -> dict:
    model = zoo.load_checkpoint(run)
    dataset = read_config(checkpoint_dir(run))["dataset"]
    text = load_corpus(dataset["source"], dataset["line_endings"], dataset["split"], progress=False).splits()[2]
    end = "\r" if dataset["line_endings"] == "crlf" else "\n"
    p_end = end_probabilities(model, text, end)[:-1]
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    here, after = codes[:-1], codes[1:]
    word_end = ~np.isin(here, [32, 10, 13]) & np.isin(after, [32, ord(end)])
    column = np.minimum(line_position(text)[:-1], longest)
    count = np.bincount(column[word_end], minlength=longest + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(column[word_end], weights=p_end[word_end], minlength=longest + 1) / count
        actual = np.bincount(column[word_end], weights=(after[word_end] == ord(end)), minlength=longest + 1) / count
    line_ends = word_end & (after == ord(end))
    return {"model": run, "line_endings": dataset["line_endings"], "word_ends": int(word_end.sum()),
            "line_ends": int(line_ends.sum()), "p_at_line_ends": float(p_end[line_ends].mean()),
            "p_elsewhere": float(p_end[word_end & ~line_ends].mean()),
            "columns": {"count": count.tolist(), "predicted": predicted.tolist(), "actual": actual.tolist()}}


def figure(results: list[dict], path: str, min_count: int) -> None:
    from zoo.report import new_figure, png

    fig = new_figure(8, 4)
    ax = fig.subplots()
    for found in results:
        c = found["columns"]
        shown = np.flatnonzero(np.asarray(c["count"]) >= min_count)
        ax.plot(shown, np.asarray(c["predicted"])[shown], label=f"{found['model']} ({found['line_endings']})")
    c = results[0]["columns"]
    shown = np.flatnonzero(np.asarray(c["count"]) >= min_count)
    ax.plot(shown, np.asarray(c["actual"])[shown], "k--", label="how often the line ends there")
    ax.set(xlabel="column (characters of the line read)", ylabel="p(line end) after a word",
           title="does the model know how far the line has come?", ylim=(0, 1))
    ax.legend(fontsize=8)
    with open(path, "wb") as out:
        out.write(png(fig))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="checkpoint or run directories of character models")
    parser.add_argument("--longest", type=int, default=80, help="columns from this one on are counted together")
    parser.add_argument("--min-count", type=int, default=50, help="columns with fewer word ends are left off the figure")
    parser.add_argument("--figure", help="write the figure (PNG) here")
    parser.add_argument("--json", help="write the numbers (JSON) here")
    args = parser.parse_args()
    results = [by_column(run, args.longest) for run in args.runs]
    for found in results:
        print(f"{found['model']} ({found['line_endings']}): p(line end) {found['p_at_line_ends']:.3f} at the "
              f"{found['line_ends']:,} line ends, {found['p_elsewhere']:.3f} at the other "
              f"{found['word_ends'] - found['line_ends']:,} word ends")
    edges = [0, 40, 55, 62, 66, 70, 74, args.longest + 1]
    print("columns  " + "  ".join(f"{a}-{b - 1}" for a, b in zip(edges, edges[1:])))
    for found in [*results, None]:
        c = (found or results[0])["columns"]
        count, values = np.asarray(c["count"]), np.nan_to_num(c["actual" if found is None else "predicted"])
        means = [(values[a:b] * count[a:b]).sum() / count[a:b].sum() if count[a:b].sum() else None
                 for a, b in zip(edges, edges[1:])]
        print(f"{'actual' if found is None else found['line_endings']:>7}  "
              + "  ".join("    -" if m is None else f"{m:.3f}" for m in means))
    if args.figure:
        figure(results, args.figure, args.min_count)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
