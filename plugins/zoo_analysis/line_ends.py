"""Where lines end: after each word of a hard-wrapped text, how likely a model says the line ends
there, by column, against how often it does.

Karpathy et al. 2015 (Section 4.3) find the LSTM far ahead of n-gram models on the carriage
return, and show a cell that counts the characters of the line (Fig. 2). This analysis joins
the two: a model that knows how far the line has come raises p(line end) as the line fills and
follows the true curve; one that does not (an n-gram, whose context is shorter than a line)
gives every word end about the same chance. It needs only next-character probabilities, so it
applies to any language model, and references (`--reference`) are drawn beside it.
"""

from __future__ import annotations

from pathlib import Path

from zoo import BLOCK, Analyzer, Param, Report, ZooError, or_none, paired_difference

from .comparisons import file_label
from .ngrams import own_ids

ENDS = {"newline": "\n", "return": "\r"}
PLACES = {"word": "word ends", "space": "spaces"}  # where a line could end, by `after`


class LineEnds(Analyzer):
    requires = frozenset({"log_probs"})
    params = {
        "line_end": Param("auto", "the character that ends a line: auto takes the first of the usual line break, "
                                  "the carriage return in CR LF text (as the paper's files), else the newline",
                          choices=("auto", *ENDS)),
        "after": Param("auto", "where a line may end: after a word (hard-wrapped text: a space or the line end "
                               "follows each word), or after a space (text whose lines keep their last space, as "
                               "format=flowed mail); auto: a space if most lines end after one",
                       choices=("auto", "word", "space")),
        "longest": Param(80, "columns from this one on are counted together", check=lambda v: v >= 1),
        "edges": Param((0, 20, 40, 50, 60, 65, 70, 75), "column buckets of the table (the last is open-ended)",
                       check=lambda v: len(v) >= 1 and list(v) == sorted(set(v)) and v[0] >= 0),
        "min_count": Param(20, "columns with fewer places a line could end (word ends, or spaces) are left off "
                               "the figure", check=lambda v: v >= 1),
        "block": BLOCK,
    }
    template = Path(__file__).parent / "templates" / "line_ends.html.j2"

    def check_inputs(self, model, data, params) -> None:
        """A text with no place where a line could end is refused with the others' checks, before
        any analyzer of the same command writes its report."""
        super().check_inputs(model, data, params)
        if data.text is None:
            raise ZooError("line-ends: the analysis needs the text")
        _places(data.text, params["line_end"], params["after"])

    def run(self, model, data, *, line_end, after, longest, edges, min_count, block) -> Report:
        import numpy as np

        from .features import line_position

        text = data.text
        if text is None:
            raise ZooError("line-ends: the analysis needs the text")
        end, after, could_end, following = _places(text, line_end, after)
        ended = following[could_end] == ord(end)
        where = np.flatnonzero(could_end)
        column = np.minimum(line_position(text)[:-1][could_end], longest)
        series = {"model": _end_probabilities(model, data, end)[where],
                  **{label: _end_probabilities(ref, data, end)[where] for label, ref in data.references.items()}}

        def by(groups, values, size):
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.bincount(groups, weights=values, minlength=size) / np.bincount(groups, minlength=size)

        columns = {"count": np.bincount(column, minlength=longest + 1).tolist(),
                   "actual": _floats(by(column, ended, longest + 1)),
                   "predicted": {name: _floats(by(column, p, longest + 1)) for name, p in series.items()}}
        bucket = np.digitize(column, edges) - 1  # -1: a column below the first edge
        labels = [f"{a}-{b - 1}" for a, b in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
        buckets = []
        for k, label in enumerate(labels):
            inside = bucket == k
            buckets.append({"columns": label, "word_ends": int(inside.sum()), "line_ends": int(ended[inside].sum()),
                            "actual": float(ended[inside].mean()) if inside.any() else None,
                            **{name: float(p[inside].mean()) if inside.any() else None for name, p in series.items()}})
        outcome = np.where(ended, 0, 1)  # group 0: the line ended; 1: it went on
        differences = {}
        for name, p in series.items():
            if name == "model":
                continue
            found = paired_difference(outcome, series["model"], p, minlength=2, block=block, positions=where)
            differences[name] = {key: {"mean": or_none(found["mean"][g]), "se": or_none(found["se"][g])}
                                 for g, key in enumerate(("at_line_ends", "elsewhere"))}
        summary = {"line_end": end, "after": after, "word_ends": int(could_end.sum()), "line_ends": int(ended.sum()),
                   "block": block,
                   "models": {name: {"at_line_ends": or_none(p[ended].mean()) if ended.any() else None,
                                     "elsewhere": or_none(p[~ended].mean()) if (~ended).any() else None}
                              for name, p in series.items()},
                   "differences": differences, "buckets": buckets, "columns": columns}
        arrays = {"column": column, "ended": ended, **{f"p_{file_label(name)}": p for name, p in series.items()}}
        return Report(self.name, summary=summary, arrays=arrays,
                      figures={"line-ends.png": _chart(columns, min_count, data.label, end, after)})


def _end_probabilities(model, data, end: str):
    """p(next = `end`) at every position, the model reading the text in its own vocabulary (a
    model that has no such character gives it none)."""
    import numpy as np

    from zoo import next_probabilities

    ids = own_ids(model, data)
    vocab = getattr(model, "vocab", None) or data.vocab
    if vocab is None:
        raise ZooError("line-ends: the model has no vocabulary to find the line end in")
    if end not in vocab.chars:
        return np.zeros(len(ids) - 1)
    return next_probabilities(model, ids, [vocab.chars.index(end)])[:, 0]


def _floats(values) -> list:
    return [or_none(v) for v in values.tolist()]


def _chart(columns, min_count, model_label, end, after) -> bytes:
    import numpy as np

    from zoo import new_figure, png

    fig = new_figure(8, 4)
    ax = fig.subplots()
    shown = np.flatnonzero(np.asarray(columns["count"]) >= min_count)
    nan = float("nan")

    def values(series):
        return [nan if series[i] is None else series[i] for i in shown]

    for k, (name, predicted) in enumerate(columns["predicted"].items()):
        ax.plot(shown, values(predicted), color=f"C{k}", label=model_label if name == "model" else name)
    ax.plot(shown, values(columns["actual"]), "k--", label="how often the line ends there")
    what = "carriage return" if end == "\r" else "newline"
    ax.set(xlabel="column (characters of the line read)", ylabel=f"p({what}) after a {after}", ylim=(0, 1.02),
           title=f"does the model know how far the line has come? (columns with {min_count}+ {PLACES[after]})")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    return png(fig)


def _places(text: str, line_end: str, after: str):
    """(the line-end character, where a line may end: "word" or "space", the mask of the positions
    after which it could end, the next character's code at every position); a text without any
    such position is refused in one line."""
    import numpy as np

    if line_end == "auto":  # in CR LF text "\n\r" occurs only between paragraphs, and the other way round
        end = "\r" if text.count("\r\n") > text.count("\n\r") else "\n"
    else:
        end = ENDS[line_end]
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    here, following = codes[:-1], codes[1:]
    blank = [32, 9, 10, 13]
    if after == "auto":
        before_end = here[following == ord(end)]
        after = "space" if (before_end == 32).sum() * 2 > len(before_end) else "word"
    if after == "word":  # a character that is not white space, followed by a space or the line end
        could_end = ~np.isin(here, blank) & np.isin(following, [32, ord(end)])
    else:  # a space, followed by the line end or the next word
        could_end = (here == 32) & ((following == ord(end)) | ~np.isin(following, blank))
    if not could_end.any():
        follows = "a space or a line end" if after == "word" else "a line end or a word"
        raise ZooError(f"line-ends: the text has no {after} followed by {follows}")
    return end, after, could_end, following
