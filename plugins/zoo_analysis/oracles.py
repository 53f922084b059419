"""The error analysis of Karpathy et al. 2015, Section 4.4: peeling the onion with oracles.

A character is an error when the model gives it probability below `threshold` (0.5). The errors
are then removed by a sequence of oracles, in the paper's order, each taking only what the
previous ones left:

1. n-gram: an n-gram model (n = 1..9 characters of context, modified Kneser-Ney, fitted with the
   KenLM baseline to the model's training split) gives the correct character more than
   `threshold`; an error goes to the smallest such n;
2. dynamic memory: the `memory`-long substring that ends with the character already occurred
   earlier in the analysed text, so copying from memory would have got it right ("Mary ... Mary");
3. rare words: the character is inside a word seen at most `rare` times in the training split
   (counted by how often it was seen);
4. word model: the character starts a word (it follows a space or a newline);
5. punctuation: the character is punctuation;
6. boost: raising the correct character's probability by `boost` would reach `threshold`;
7. the rest stay unexplained.

Every category is a boolean array over the characters, computed with array operations; the
counts add up to the number of errors by construction (each error goes to exactly one category).
"""

from __future__ import annotations

import re
from pathlib import Path

from zoo import Analyzer, Param, Report, ZooError

from .ngrams import ERROR_THRESHOLD, correct_probabilities, ngram_params, ngram_probabilities

CATEGORIES = ("n-gram", "dynamic memory", "rare words", "word model", "punctuation", "boost", "unexplained")
WORD = re.compile(r"[^\W\d_]+")  # runs of letters


class Oracles(Analyzer):
    requires = frozenset({"log_probs"})
    needs = frozenset({"train"})
    params = {
        "threshold": ERROR_THRESHOLD,
        **ngram_params(range(1, 10), "the n-gram oracle"),
        "memory": Param(10, "dynamic memory: length of the substring, ending with the character, that must "
                           "have occurred earlier in the text", check=lambda v: v >= 2),
        "rare": Param(5, "rare words: at most this many occurrences in the training split", check=lambda v: v >= 0),
        "boost": Param(0.25, "boost: how much the correct character's probability may be raised",
                       check=lambda v: 0 < v < 1),
        "examples": Param(40, "examples of each category kept for browsing", check=lambda v: v >= 0),
        "context": Param(40, "characters of context shown on each side of an example", check=lambda v: v >= 1),
    }
    template = Path(__file__).parent / "templates" / "oracles.html.j2"

    def run(self, model, data, *, threshold, orders, ngram_models, memory, rare, boost, examples, context) -> Report:
        import numpy as np


        if data.text is None or data.vocab is None:
            raise ZooError("oracles: the analysis needs the text and the model's vocabulary")
        text = data.text
        ngrams = ngram_probabilities(data, orders, ngram_models)
        p_model = correct_probabilities(model, data)
        breakdown = _breakdown(p_model, text, ngrams, data.train_text, threshold=threshold,
                               memory=memory, rare=rare, boost=boost)
        summary = _summary(breakdown, threshold)
        comparison = {}
        for label, reference in data.references.items():
            p_ref = correct_probabilities(reference, data)
            other = _breakdown(p_ref, text, ngrams, data.train_text, threshold=threshold, memory=memory,
                               rare=rare, boost=boost)
            comparison[label] = _compare(other, breakdown)
        summary["comparison"] = comparison
        category = breakdown["category"]
        rng = np.random.default_rng(0)
        shown = {}
        for c, name in enumerate(CATEGORIES):
            where = np.flatnonzero(category == c)
            picked = np.sort(rng.choice(where, size=min(examples, len(where)), replace=False)) if len(where) else where
            shown[name] = [_example(text, int(k) + 1, float(p_model[k]), context) for k in picked]
        figures = {"oracles.png": _charts(summary, comparison, data.label)}
        arrays = {"p_model": p_model.astype(np.float32), "category": category.astype(np.int8),
                  "categories": np.array(CATEGORIES),
                  **{f"p_ngram_{n}": p.astype(np.float32) for n, p in ngrams.items()}}
        return Report(self.name, summary=summary, arrays=arrays, figures=figures,
                      html={"order": list(CATEGORIES), "examples": shown})


def _breakdown(p, text, ngrams, train_text, *, threshold, memory, rare, boost) -> dict:
    """Each character's category (index into CATEGORIES, -1 where there is no error), plus the
    sub-breakdowns by n-gram order and by word count."""
    import numpy as np

    n = len(p)  # position k predicts text[k + 1]
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    target = codes[1:n + 1]
    previous = codes[:n]
    category = np.full(n, -1, dtype=np.int64)
    open_ = p < threshold

    def take(mask, c):
        chosen = open_ & mask
        category[chosen] = c
        open_[chosen] = False
        return chosen

    ngram_order = np.zeros(n, dtype=np.int64)
    for order, p_n in ngrams.items():  # smallest n first
        chosen = take(p_n > threshold, 0)
        ngram_order[chosen] = order
    take(_seen_before(codes, memory)[1:n + 1], 1)
    counts = _word_counts_at(text, train_text)[1:n + 1]
    rare_mask = (counts >= 0) & (counts <= rare)
    rare_taken = take(rare_mask, 2)
    take(np.isin(previous, [ord(" "), ord("\n"), ord("\t"), ord("\r")]), 3)
    alphabet, where = np.unique(target, return_inverse=True)
    punct = np.array([not chr(c).isalnum() and not chr(c).isspace() for c in alphabet.tolist()], dtype=bool)[where]
    take(punct, 4)
    take(p + boost >= threshold, 5)
    take(np.ones(n, dtype=bool), 6)
    return {"category": category, "ngram_order": ngram_order, "rare_count": np.where(rare_taken, counts, -1),
            "characters": n}


def _seen_before(codes, m):
    """For each position i, whether the m characters ending at i also occur somewhere earlier."""
    import numpy as np

    out = np.zeros(len(codes), dtype=bool)
    if len(codes) < m:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(codes, m)
    _, first, inverse = np.unique(windows, axis=0, return_index=True, return_inverse=True)
    out[m - 1:] = first[inverse.reshape(-1)] < np.arange(len(windows))
    return out


def _word_counts_at(text, train_text):
    """For each character of `text`, how often the word it belongs to occurs in the training text
    (-1 where the character is not a letter)."""
    from collections import Counter

    import numpy as np

    vocabulary = Counter(WORD.findall(train_text or ""))
    counts = np.full(len(text), -1, dtype=np.int64)
    spans = [(m.start(), m.end() - m.start(), vocabulary.get(m.group(), 0)) for m in WORD.finditer(text)]
    if spans:
        starts, lengths, seen = (np.array(column) for column in zip(*spans))
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        counts[np.repeat(starts, lengths) + offsets] = np.repeat(seen, lengths)
    return counts


def _summary(b, threshold) -> dict:
    import numpy as np

    category = b["category"]
    errors = int((category >= 0).sum())
    rows = [{"name": name, "count": int((category == c).sum()),
             "share": float((category == c).sum() / errors) if errors else 0.0} for c, name in enumerate(CATEGORIES)]
    orders = sorted({int(o) for o in np.unique(b["ngram_order"]) if o > 0})
    return {"threshold": threshold, "characters": b["characters"], "errors": errors,
            "error_rate": errors / max(b["characters"], 1), "categories": rows,
            "ngram_by_order": {str(o): int((b["ngram_order"] == o).sum()) for o in orders},
            "rare_by_count": {str(k): int((b["rare_count"] == k).sum())
                              for k in sorted(set(b["rare_count"].tolist()) - {-1})}}


def _compare(reference, model) -> dict:
    """Per category of the reference's errors: how many, and how many the analysed model gets right."""
    rc, mc = reference["category"], model["category"]
    return {"errors": int((rc >= 0).sum()),
            "categories": [{"name": name, "reference": int((rc == c).sum()), "model": int((mc == c).sum()),
                            "fixed_by_model": int(((rc == c) & (mc < 0)).sum())} for c, name in enumerate(CATEGORIES)]}


def _example(text, position, p, context) -> dict:
    return {"before": text[max(0, position - context):position], "char": text[position],
            "after": text[position + 1:position + 1 + context // 2], "p": round(p, 4), "position": position}


def _charts(summary, comparison, label: str) -> bytes:
    from zoo import new_figure, png

    rows = summary["categories"]
    fig = new_figure(12, 4.2)
    pie, bars = fig.subplots(1, 2, width_ratios=(1, 1.6))
    shown = [r for r in rows if r["count"]]
    pie.pie([r["count"] for r in shown], labels=[f"{r['name']}\n{100 * r['share']:.1f} %" for r in shown],
            colors=[f"C{CATEGORIES.index(r['name'])}" for r in shown], startangle=90, counterclock=False,
            textprops={"fontsize": 8})
    pie.set_title(f"{summary['errors']:,} errors (p < {summary['threshold']})")
    names = [r["name"] for r in rows]
    width = 0.8 / (1 + len(comparison))
    bars.bar([i - 0.4 + width / 2 for i in range(len(rows))], [r["count"] for r in rows], width,
             label=label, color="C0")
    for j, (name, comp) in enumerate(comparison.items(), start=1):
        bars.bar([i - 0.4 + width * (j + 0.5) for i in range(len(rows))],
                 [c["reference"] for c in comp["categories"]], width, label=name, color=f"C{j}")
    bars.set_xticks(range(len(rows)), names, rotation=25, ha="right")
    bars.set(ylabel="errors", title="errors removed by each oracle, in order")
    if comparison:
        bars.legend()
    return png(fig)
