"""Accuracy by known characters (Madsen 2019, Distill, "Future work; quantitative metric").

For an autocomplete model (one that predicts the word each character belongs to): the accuracy of
its suggestions as a function of how many letters of the word it has read, 0 meaning only the
space before the word (and all the text before it). Top-1, top-2 and top-3: the correct word is
the first suggestion, or among the first two or three. Padding and unknown words are not scored,
as in the article's training and evaluation. Reference models (``--reference``) that predict words
are drawn on the same graph, which is the article's comparison of GRU, LSTM and Nested LSTM.

A reference with the model's words scores the very same characters, so the two are compared
character by character: the model's lead in top-1 accuracy (and in cross-entropy) over it, with
the standard error of the mean of the per-character differences. This paired error is the one
that says whether one model is ahead at a given number of letters read; the errors of the two
curves taken apart would be too wide, since both models find the same words hard.
"""

from __future__ import annotations

from pathlib import Path

from zoo import BLOCK, Analyzer, Param, Report, ZooError


class AccuracyByKnownChars(Analyzer):
    requires = frozenset({"words"})
    params = {
        "top": Param(3, "suggestions counted: top-1 up to top-k accuracy", check=lambda v: 1 <= v <= 10),
        "longest": Param(15, "letters read shown on the graph's x-axis (the table lists every count)",
                         check=lambda v: v >= 1),
        "min_characters": Param(50, "counts of letters read with fewer scored characters are left off the graph "
                                    "(not the table): their accuracy is noise", check=lambda v: v >= 1),
        "max_length": Param(200, "characters per observation when packing a text that is not already observations",
                            check=lambda v: v >= 2),
        "block": BLOCK,
        "batch": Param(64, "observations per forward pass "
                           "(the logits of 64 x 200 characters x 16,386 words take 840 MB)", check=lambda v: v >= 1),
    }
    template = Path(__file__).parent / "templates" / "autocomplete.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        if data.text is None:
            raise ZooError(f"{self.name} reads text (observations of words), not bare ids")
        from .data import has_observations

        if not has_observations(data.text, params["max_length"]):
            raise ZooError(f"{self.name}: the text has no letters a-z to autocomplete")

    def run(self, model, data, *, top, longest, min_characters, max_length, block, batch) -> Report:
        import numpy as np

        from . import data as ac

        observations = ac.from_text(data.text, max_length)
        models = {data.label: model, **data.references}
        curves, overall, found = {}, {}, {}
        for label, m in models.items():
            found[label] = ac.predictions(m, ac.encode(observations, m.words), top=top, batch_size=batch,
                                          progress=data.progress)
            overall[label] = ac.summarize(found[label], top)
            curves[label] = by_known(found[label]["known"], found[label]["rank"], top)
        own = found[data.label]
        table = curves[data.label]
        summary = {"observations": len(observations), "top": top, "overall": overall, "block": block,
                   "by_known": dict(curves.items()),
                   "lead": {label: lead(own, found[label], block) for label, ref in data.references.items()
                            if ref.words == model.words},  # the same words: the same scored characters
                   "unpaired": [label for label, ref in data.references.items() if ref.words != model.words]}
        arrays = dict(own)
        figures = {"accuracy.png": _figure(curves, top, longest, min_characters)}
        if summary["lead"]:
            figures["lead.png"] = _lead_figure(data.label, summary["lead"], longest, min_characters)
        return Report(self.name, summary=summary,
                      arrays={**arrays, "counts": np.array([r["characters"] for r in table])},
                      figures=figures, html={"labels": list(models)})


def by_known(known, rank, top: int) -> list[dict]:
    """One row per number of letters read: scored characters and top-1..top-k accuracy."""
    import numpy as np

    hits = (rank[None, :] >= 1) & (rank[None, :] <= np.arange(1, top + 1)[:, None])  # [top, N]
    counts = np.bincount(known)
    per = [np.bincount(known, weights=h.astype(float), minlength=len(counts)) for h in hits]
    return [{"known": int(k), "characters": int(counts[k]),
             **{f"top{j + 1}": float(per[j][k] / counts[k]) for j in range(top)}}
            for k in np.flatnonzero(counts)]


def lead(own: dict, theirs: dict, block: int = 1) -> dict:
    """How far the model is ahead of a reference that scored the same characters: in top-1
    accuracy (model minus reference) and cross-entropy (reference minus model), overall and by
    letters read, each with the standard error of the mean of the per-character differences
    (drawn in runs of `block` scored characters, see `zoo.analysis.paired_difference`)."""
    import numpy as np

    from zoo import or_none, paired_difference

    hits, their_hits = (own["rank"] == 1), (theirs["rank"] == 1)
    everywhere = np.zeros(len(hits), dtype=np.int64)
    top1 = paired_difference(everywhere, hits, their_hits, block=block)
    nats = paired_difference(everywhere, theirs["loss"], own["loss"], block=block)
    by_known = paired_difference(own["known"], hits, their_hits, block=block)

    rows = [{"known": int(k), "characters": int(by_known["count"][k]), "top1": float(by_known["mean"][k]),
             "top1_se": or_none(by_known["se"][k])} for k in np.flatnonzero(by_known["count"])]
    return {"top1": float(top1["mean"][0]), "top1_se": or_none(top1["se"][0]),
            "nats": float(nats["mean"][0]), "nats_se": or_none(nats["se"][0]), "by_known": rows}


def _lead_figure(label: str, leads: dict, longest: int, min_characters: int) -> bytes:
    """The model's top-1 lead over each paired reference by letters read, with 95 % intervals
    (1.96 paired standard errors): above zero, the model is ahead."""
    from zoo import new_figure, png

    fig = new_figure(8, 3.6)
    ax = fig.add_subplot()
    ax.axhline(0, color="0.4", linewidth=0.8)
    for color, (name, lead_) in enumerate(leads.items(), start=1):
        rows = [r for r in lead_["by_known"] if r["known"] <= longest and r["characters"] >= min_characters]
        x = [r["known"] + 0.08 * (color - 1) for r in rows]  # side by side where several references
        ax.errorbar(x, [100 * r["top1"] for r in rows], yerr=[196 * (r["top1_se"] or 0) for r in rows],
                    color=f"C{color}", marker="o", markersize=3, capsize=2, linewidth=1,
                    label=f"{label} minus {name}")
    ax.set(xlabel="letters of the word already read (0: only the space before it)", ylabel="top-1 lead (points)",
           title="ahead or behind? paired differences, 95 % intervals")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return png(fig)


def _figure(curves, top: int, longest: int, min_characters: int) -> bytes:
    from zoo import new_figure, png

    fig = new_figure(8, 4.2)
    ax = fig.add_subplot()
    styles = ["-", "--", ":", "-.", (0, (1, 4)), (0, (5, 6)), (0, (3, 2, 1, 2)), (0, (1, 1)), (0, (8, 2)), (0, (2, 6))]
    for color, (label, rows) in enumerate(curves.items()):
        shown = [r for r in rows if r["known"] <= longest and r["characters"] >= min_characters]
        x = [r["known"] for r in shown]
        for j in range(top):
            ax.plot(x, [r[f"top{j + 1}"] for r in shown], linestyle=styles[j], color=f"C{color}",
                    marker="o" if j == 0 else None, markersize=3,
                    label=f"{label}, top-{j + 1}" if len(curves) > 1 or top > 1 else label)
    ax.set(xlabel="letters of the word already read (0: only the space before it)", ylabel="accuracy", ylim=(0, 1.02),
           title="autocomplete accuracy by known characters")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=max(1, len(curves)))
    return png(fig)
