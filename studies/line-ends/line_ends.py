r"""How character models predict the ends of lines: after each word of the test split (where a
space or a line end comes next), the probability the model gives the line end (the newline, or
in CR LF text the carriage return), by column, against how often the line really ends there.
A model that knows how far the line has come raises it as the line fills; one that does not
gives every word end about the same chance. Where the lines keep their last space, it asks after
every space instead (the analyzer's `after=auto`).

    python studies/line-ends/line_ends.py runs/le/lf runs/le/crlf --figure studies/line-ends/figures/wp-line-ends.png
    python studies/line-ends/line_ends.py LF=runs/le/lf-seed0 LF=runs/le/lf-seed1 "CR LF=runs/le/crlf-seed0" ...

Each model reads its own test split (its recorded text, line endings and split) from the zero
state, as one stream.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from zoo_analysis.line_ends import PLACES

import zoo
from zoo.checkpoint import checkpoint_dir, read_config
from zoo.data import load_corpus

EDGES = (0, 40, 55, 62, 66, 70, 74)  # War and Peace wraps its lines at 66-73 characters


def by_column(given: str, longest: int) -> dict:
    """The `line-ends` analyzer's summary for one run (NAME=RUN names it), on its own test split."""
    name, named, run = given.partition("=")
    if not named or Path(given).exists():  # a run whose path holds "=" is not named by it
        name, run = "", given
    model = zoo.load_checkpoint(run)
    dataset = read_config(checkpoint_dir(run))["dataset"]
    text = load_corpus(dataset["source"], dataset["line_endings"], dataset["split"], progress=False).splits()[2]
    summary = zoo.analyze(model, "line-ends", text, longest=longest, edges=EDGES).summary
    return {"model": run, "name": name or f"{run} ({dataset['line_endings']})", "line_endings": dataset["line_endings"],
            **summary}


def figure(results: list[dict], path: str, min_count: int) -> None:
    from zoo.report import new_figure, png

    fig = new_figure(8, 4)
    ax = fig.subplots()
    nan = float("nan")
    colours = {}  # runs given the same NAME share a colour and one legend entry
    for found in [*results, None]:
        c = (found or results[0])["columns"]
        shown = np.flatnonzero(np.asarray(c["count"]) >= min_count)
        values = c["actual"] if found is None else c["predicted"]["model"]
        if found is None:
            style = {"color": "k", "linestyle": "--", "label": "how often the line ends there"}
        else:
            first = found["name"] not in colours
            colours.setdefault(found["name"], f"C{len(colours)}")
            style = {"color": colours[found["name"]], "label": found["name"] if first else None}
        ax.plot(shown, [nan if values[i] is None else values[i] for i in shown], **style)
    ax.set(xlabel="column (characters of the line read)", ylabel="p(line end) after a word (or space)",
           title="does the model know how far the line has come?", ylim=(0, 1))
    ax.legend(fontsize=8)
    with open(path, "wb") as out:
        out.write(png(fig))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="checkpoint or run directories of character models; NAME=RUN names one "
                                                "in the figure (runs of one NAME share a colour)")
    parser.add_argument("--longest", type=int, default=80, help="columns from this one on are counted together")
    parser.add_argument("--min-count", type=int, default=50,
                        help="columns with fewer places a line could end are left off the figure")
    parser.add_argument("--figure", help="write the figure (PNG) here")
    parser.add_argument("--json", help="write the numbers (JSON) here")
    args = parser.parse_args()
    results = [by_column(run, args.longest) for run in args.runs]
    for found in results:
        model = found["models"]["model"]
        print(f"{found['model']} ({found['line_endings']}): p(line end) {model['at_line_ends']:.3f} at the "
              f"{found['line_ends']:,} line ends, {model['elsewhere']:.3f} at the other "
              f"{found['word_ends'] - found['line_ends']:,} {PLACES[found['after']]}")
    width = max(len(found["name"]) for found in results)
    print(f"{'columns':>{width}}  " + "  ".join(f"{row['columns']:>6}" for row in results[0]["buckets"]))
    for found in [*results, None]:
        rows = (found or results[0])["buckets"]
        print(f"{'actual' if found is None else found['name']:>{width}}  " + "  ".join(
            "     -" if row[key] is None else f"{row[key]:6.3f}"
            for row in rows for key in ["actual" if found is None else "model"]))
    if args.figure:
        figure(results, args.figure, args.min_count)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
