"""The long-range comparisons of Karpathy et al. 2015, Section 4.3: a model against n-gram models
(or any reference), character by character.

* `error-overlap` (Fig. 4 left): which errors both make, which only the model, which only the
  reference, for n-gram models of n = 1..20 or the references given;
* `char-probs` (Fig. 4 middle and right): the mean probability of the correct character, per
  character of the vocabulary, for the model and a reference, sorted by their difference;
* `bracket-distance` (Fig. 5 left): the mean probability of a closing bracket, bucketed by the
  distance to its opening bracket, where the LSTM's advantage should grow with distance.

All of them need only next-character probabilities (`log_probs`), so any pair of language models
qualifies: recurrent models, n-grams, n-NNs, a third party's.
"""

from __future__ import annotations

from pathlib import Path

from zoo import BLOCK, Analyzer, Param, Report, ZooError, or_none, paired_difference

from .ngrams import ERROR_THRESHOLD, correct_probabilities, ngram_params, ngram_probabilities

VISIBLE = {" ": "␣", "\n": "↵", "\r": "⏎", "\t": "→"}


def references(data) -> dict:
    """{label: p(correct)} for every reference model (`Analyzer.check_inputs` has made sure
    there is one where the analyzer needs it)."""
    return {name: correct_probabilities(ref, data) for name, ref in data.references.items()}


class ErrorOverlap(Analyzer):
    requires = frozenset({"log_probs"})
    params = {
        "threshold": ERROR_THRESHOLD,
        **ngram_params(range(1, 21), "n-gram models to compare with when no --reference is given"),
    }
    template = Path(__file__).parent / "templates" / "comparison.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        if not data.references and not params["ngram_models"] and not data.train_text:
            raise ZooError(f"analyzer '{self.name}' compares with n-gram models fitted to the model's training split: "
                           "pass --data, n-gram directories (--set ngram_models=...) or --reference")

    def run(self, model, data, *, threshold, orders, ngram_models) -> Report:
        import numpy as np

        p_model = correct_probabilities(model, data)
        if data.references:
            others = references(data)
        else:
            others = {f"{n}-gram": p for n, p in ngram_probabilities(data, orders, ngram_models).items()}
        wrong = p_model < threshold
        rows = []
        for label, p in others.items():
            theirs = p < threshold
            both, mine, only = int((wrong & theirs).sum()), int((wrong & ~theirs).sum()), int((~wrong & theirs).sum())
            rows.append({"reference": label, "both": both, "only_model": mine, "only_reference": only,
                         "model_errors": both + mine, "reference_errors": both + only,
                         "shared_of_model_errors": both / max(both + mine, 1)})
        summary = {"threshold": threshold, "characters": len(p_model), "model_errors": int(wrong.sum()),
                   "comparisons": rows}
        return Report(self.name, summary=summary, figures={"error-overlap.png": _overlap_chart(rows)},
                      arrays={"p_model": p_model.astype(np.float32),
                              **{f"p_{label}": p.astype(np.float32) for label, p in others.items()}})


class CharProbs(Analyzer):
    requires = frozenset({"log_probs"})
    needs = frozenset({"reference"})
    params = {
        "min_count": Param(1, "characters that occur fewer times in the text are left out", check=lambda v: v >= 1),
        "shown": Param(20, "characters shown at each end of the chart (most in the model's favour, and the "
                           "reference's)", check=lambda v: v >= 1),
        "block": BLOCK,
    }
    template = Path(__file__).parent / "templates" / "comparison.html.j2"

    def run(self, model, data, *, min_count, shown, block) -> Report:
        import numpy as np

        if data.vocab is None:
            raise ZooError("char-probs: the model has no vocabulary to name its characters")
        p_model = correct_probabilities(model, data)
        targets = data.ids[1:].numpy()
        size = len(data.vocab)
        counts = np.bincount(targets, minlength=size)
        mean_model = np.bincount(targets, weights=p_model, minlength=size) / np.maximum(counts, 1)
        tables, figures = {}, {}
        for label, p_ref in references(data).items():
            mean_ref = np.bincount(targets, weights=p_ref, minlength=size) / np.maximum(counts, 1)
            paired = paired_difference(targets, p_model, p_ref, minlength=size, block=block)  # the same occurrences
            keep = np.flatnonzero(counts >= min_count)
            order = keep[np.argsort(-(mean_model[keep] - mean_ref[keep]), kind="stable")]
            rows = [{"char": data.vocab.chars[i], "shown": VISIBLE.get(data.vocab.chars[i], data.vocab.chars[i]),
                     "count": int(counts[i]), "model": float(mean_model[i]), "reference": float(mean_ref[i]),
                     "difference": float(mean_model[i] - mean_ref[i]), "difference_se": or_none(paired["se"][i])}
                    for i in order]
            tables[label] = rows
            figures[f"char-probs-{file_label(label)}.png"] = _char_chart(rows, shown, data.label, label)
        summary = {"characters": len(targets), "block": block, "references": tables}
        return Report(self.name, summary=summary, figures=figures,
                      arrays={"counts": counts, "mean_model": mean_model})


class BracketDistance(Analyzer):
    requires = frozenset({"log_probs"})
    needs = frozenset({"reference"})
    params = {
        "brackets": Param("{}", "the opening and closing bracket (two characters: {}, (), [])",
                          check=lambda v: len(v) == 2 and v[0] != v[1]),
        "edges": Param((1, 10, 20, 40, 60, 80, 100, 150, 200, 300, 500, 1000),
                       "bucket edges of the distance in characters (the last bucket is open-ended)",
                       check=lambda v: len(v) >= 1 and list(v) == sorted(set(v)) and v[0] >= 1),
        "block": BLOCK,
    }
    template = Path(__file__).parent / "templates" / "comparison.html.j2"

    def run(self, model, data, *, brackets, edges, block) -> Report:
        import numpy as np

        if data.text is None:
            raise ZooError("bracket-distance: the analysis needs the text")
        opening, closing = bracket_pairs(data.text, brackets[0], brackets[1])
        distance = closing - opening
        predicted = closing - 1  # position k predicts character k + 1
        keep = predicted >= 0
        distance, predicted = distance[keep], predicted[keep]
        bucket = np.digitize(distance, edges) - 1  # -1: below the first edge (cannot happen with edge 1)
        labels = [f"{a}-{b - 1}" for a, b in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
        series = {"model": correct_probabilities(model, data)[predicted],
                  **{label: p[predicted] for label, p in references(data).items()}}
        listed = bucket >= 0  # distances below the first edge are in no bucket
        paired = {name: paired_difference(bucket[listed], series["model"][listed], p[listed], minlength=len(labels),
                                          block=block, positions=predicted[listed])
                  for name, p in series.items() if name != "model"}  # model minus each reference, paired
        rows = []
        for k, label in enumerate(labels):
            inside = bucket == k
            rows.append({"distance": label, "count": int(inside.sum()),
                         **{name: (float(p[inside].mean()) if inside.any() else None) for name, p in series.items()},
                         "difference_se": {name: or_none(found["se"][k]) for name, found in paired.items()}})
        summary = {"brackets": brackets, "pairs": int(len(distance)), "block": block, "buckets": rows,
                   "mean": {name: float(p.mean()) if len(p) else None for name, p in series.items()}}
        arrays = {"distance": distance, **{f"p_{file_label(name)}": p for name, p in series.items()}}
        return Report(self.name, summary=summary, arrays=arrays,
                      figures={"bracket-distance.png": _bracket_chart(rows, list(series), brackets)})


def bracket_pairs(text: str, opening: str, closing: str):
    """Positions of matched (opening, closing) brackets. One pass over the brackets alone (not
    every character) with a stack; an unmatched closing bracket is skipped."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    where = np.flatnonzero((codes == ord(opening)) | (codes == ord(closing)))
    is_open = codes[where] == ord(opening)
    stack, pairs = [], []
    for position, opens in zip(where.tolist(), is_open.tolist()):
        if opens:
            stack.append(position)
        elif stack:
            pairs.append((stack.pop(), position))
    pairs.sort(key=lambda pair: pair[1])
    found = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return found[:, 0], found[:, 1]


def file_label(label: str) -> str:
    """A model's label as part of a file or array name (``p_<label>``, ``char-probs-<label>.png``)."""
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "reference"


def _overlap_chart(rows) -> bytes:
    from zoo import new_figure, png

    fig = new_figure(max(6, 0.45 * len(rows) + 2), 4)
    ax = fig.add_subplot()
    x = range(len(rows))
    both = [r["both"] for r in rows]
    mine = [r["only_model"] for r in rows]
    theirs = [r["only_reference"] for r in rows]
    ax.bar(x, both, color="C7", label="both")
    ax.bar(x, mine, bottom=both, color="C0", label="only the model")
    ax.bar(x, theirs, bottom=[a + b for a, b in zip(both, mine)], color="C1", label="only the reference")
    ax.set_xticks(list(x), [r["reference"] for r in rows], rotation=45, ha="right", fontsize=8)
    ax.set(ylabel="errors", title="error overlap")
    ax.legend()
    return png(fig)


def _char_chart(rows, shown, model_label, label) -> bytes:
    from zoo import new_figure, png

    picked = rows if len(rows) <= 2 * shown else rows[:shown] + rows[-shown:]
    fig = new_figure(max(6, 0.32 * len(picked) + 1.5), 3.8)
    ax = fig.add_subplot()
    x = range(len(picked))
    # faded: a difference within 1.96 paired errors of none (or with no error: one occurrence)
    alpha = [1.0 if r["difference_se"] and abs(r["difference"]) > 1.96 * r["difference_se"] else 0.35 for r in picked]
    for offset, key, name, color in ((-0.2, "model", model_label, "C0"), (0.2, "reference", label, "C1")):
        bars = ax.bar([i + offset for i in x], [r[key] for r in picked], 0.4, label=name, color=color)
        for bar, a in zip(bars, alpha):
            bar.set_alpha(a)
    ax.set_xticks(list(x), [r["shown"] for r in picked], family="monospace")
    ax.set(ylabel="mean p(correct)", ylim=(0, 1), title=f"per character: {model_label} against {label}\n"
           "sorted by difference; faded: within its 95 % paired interval of none")
    ax.title.set_fontsize(9)
    for handle in ax.legend().legend_handles:  # the key in full colour, whatever the first bar's
        handle.set_alpha(1)
    return png(fig)


def _bracket_chart(rows, names, brackets) -> bytes:
    from zoo import new_figure, png

    fig = new_figure(8, 6.2)
    ax, lead = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    x = list(range(len(rows)))
    nan = float("nan")
    for k, name in enumerate(names):
        ax.plot(x, [r[name] if r[name] is not None else nan for r in rows], marker="o", color=f"C{k}", label=name)
    ax.set(ylabel=f"mean p({brackets[1]})", ylim=(0, 1.02), title=f"closing {brackets[1]} by distance")
    ax.legend()
    lead.axhline(0, color="0.4", linewidth=0.8)  # the model's advantage over each reference, 95 % intervals
    for k, name in enumerate(names[1:], start=1):
        lead.errorbar([i + 0.08 * (k - 1) for i in x],
                      [r["model"] - r[name] if r[name] is not None else nan for r in rows],
                      yerr=[1.96 * (r["difference_se"][name] or 0) for r in rows], color=f"C{k}", marker="o",
                      markersize=3, capsize=2, linewidth=1, label=f"model minus {name}")
    lead.set(xlabel=f"distance from {brackets[0]} to its {brackets[1]} (pairs)", ylabel="difference (paired, 95 %)")
    lead.set_xticks(x, [f"{r['distance']}\n({r['count']})" for r in rows], fontsize=7)
    lead.legend(fontsize=7)
    return png(fig)


def symmetric_kl(a, b):
    """KL(p||q) + KL(q||p) per position, from log-probabilities [..., V]: sum (p - q)(log p - log q)."""
    return ((a.exp() - b.exp()) * (a - b)).sum(-1)


def run_checkpoints(directory, until: float):
    """(epochs of training, directory) for every step snapshot and epoch checkpoint of a run, in
    training order, up to `until` epochs (0: all)."""
    from zoo import checkpoints, read_config

    points = []
    for folder in checkpoints(directory):
        progress = float((read_config(folder).get("metrics") or {}).get("epoch", 0))
        if not until or progress <= until + 1e-9:
            points.append((progress, folder))
    return sorted(points)


class TrainingKL(Analyzer):
    requires = frozenset({"log_probs"})
    needs = frozenset({"reference"})
    params = {
        "epochs": Param(3.0, "follow the run's checkpoints up to this many epochs (0: all)", check=lambda v: v >= 0),
        "max_chars": Param(50_000, "characters compared (the text's beginning); every model's full distributions "
                                   "over them are held at once", check=lambda v: v >= 2),
    }
    template = Path(__file__).parent / "templates" / "comparison.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        from zoo import is_run

        if data.checkpoint is None or not is_run(data.checkpoint):
            raise ZooError("training-kl follows a training run: pass its run directory as --model")
        if not run_checkpoints(data.checkpoint, params["epochs"]):
            raise ZooError(f"training-kl: {data.checkpoint} has no checkpoints within {params['epochs']} epochs; "
                           "train with --snapshot-every N to keep some")
        for label, ref in data.references.items():
            if getattr(ref, "vocab", None) is not None and data.vocab is not None and ref.vocab != data.vocab:
                raise ZooError(f"training-kl: reference '{label}' has another vocabulary than the run "
                               "(fit it on the same training split)")

    def run(self, model, data, *, epochs, max_chars) -> Report:
        import numpy as np
        import torch

        from zoo import load_checkpoint

        points = run_checkpoints(data.checkpoint, epochs)
        ids = data.ids[:max_chars + 1]
        targets = ids[1:]

        def scored(lm):
            with torch.no_grad():
                lp = lm.log_probs(ids).float().cpu()[:-1]
            return lp, float(-lp.gather(1, targets[:, None]).mean())

        refs = {label: scored(ref) for label, ref in data.references.items()}
        rows = []
        for progress, folder in points:
            lp, loss = scored(load_checkpoint(folder))
            rows.append({"epoch": progress, "checkpoint": folder.name, "loss": loss,
                         "kl": {label: float(symmetric_kl(lp, ref_lp).mean()) for label, (ref_lp, _) in refs.items()},
                         "loss_difference": {label: loss - ref_loss for label, (_, ref_loss) in refs.items()}})
        summary = {"characters": len(targets), "references": {label: loss for label, (_, loss) in refs.items()},
                   "checkpoints": rows}
        arrays = {"epoch": np.array([r["epoch"] for r in rows]),
                  **{f"kl_{file_label(label)}": np.array([r["kl"][label] for r in rows]) for label in refs}}
        return Report(self.name, summary=summary, arrays=arrays,
                      figures={"training-kl.png": _kl_chart(rows, list(refs))})


class ModelMap(Analyzer):
    requires = frozenset({"log_probs"})
    needs = frozenset({"reference"})
    params = {
        "sample": Param(5000, "positions of the text that represent each model (a common random subset)",
                        check=lambda v: v >= 2),
        "seed": Param(0, "seed of the random subset and of t-SNE"),
        "method": Param("tsne", "the 2-D embedding: t-SNE (scikit-learn) or PCA", choices=("tsne", "pca")),
        "perplexity": Param(5.0, "t-SNE perplexity (lowered below the number of models where needed)",
                            check=lambda v: v > 0),
    }
    template = Path(__file__).parent / "templates" / "comparison.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        if len({data.label, *data.references}) < 3:
            raise ZooError("model-map places at least three models: pass more with --reference (or --models GLOB)")

    def run(self, model, data, *, sample, seed, method, perplexity) -> Report:
        import numpy as np

        models = {data.label: model, **data.references}
        p = {label: correct_probabilities(lm, data) for label, lm in models.items()}
        rng = np.random.default_rng(seed)
        n = len(next(iter(p.values())))
        picked = np.sort(rng.choice(n, size=min(sample, n), replace=False))
        features = np.stack([p[label][picked] for label in models])  # [models, positions]
        xy = _embed(features, method, perplexity, seed)
        points = []
        for (label, lm), (x, y) in zip(models.items(), xy):
            config = getattr(lm, "config", None)
            points.append({"label": label, "x": float(x), "y": float(y),
                           "arch": getattr(config, "arch", None) or getattr(lm, "name", type(lm).__name__),
                           "layers": getattr(config, "layers", 1),
                           "parameters": lm.num_parameters() if hasattr(lm, "num_parameters") else None,
                           "loss": float(-np.log(np.maximum(p[label], 1e-300)).mean())})
        summary = {"characters": n, "sample": len(picked), "method": method, "models": points}
        return Report(self.name, summary=summary, arrays={"coordinates": xy, "features": features},
                      figures={"model-map.png": _map_chart(points, method)}, html={"points": points})


def _embed(features, method, perplexity, seed):
    import numpy as np

    centred = features - features.mean(0, keepdims=True)
    if method == "pca":
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
        return (u[:, :2] * s[:2]) if u.shape[1] >= 2 else np.c_[u[:, 0] * s[0], np.zeros(len(u))]
    from sklearn.manifold import TSNE

    return TSNE(n_components=2, perplexity=min(perplexity, len(features) - 1.0), init="pca",
                random_state=seed).fit_transform(centred)


def _kl_chart(rows, labels) -> bytes:
    from zoo import new_figure, png

    fig = new_figure(11, 3.8)
    kl, diff = fig.subplots(1, 2)
    x = [r["epoch"] for r in rows]
    for k, label in enumerate(labels):
        kl.plot(x, [r["kl"][label] for r in rows], marker=".", color=f"C{k}", label=label)
        diff.plot(x, [r["loss_difference"][label] for r in rows], marker=".", color=f"C{k}", label=label)
    kl.set(xlabel="epochs of training", ylabel="mean symmetric KL (nats)", title="distance of the predictions")
    diff.axhline(0, color="#999999", lw=0.8)
    diff.set(xlabel="epochs of training", ylabel="test loss difference (nats/char)",
             title="model loss - reference loss")
    kl.legend(fontsize=8)
    return png(fig)


def _map_chart(points, method) -> bytes:
    import numpy as np

    from zoo import new_figure, png

    fig = new_figure(7, 6)
    ax = fig.add_subplot()
    archs = sorted({pt["arch"] for pt in points})
    markers = {1: "o", 2: "s", 3: "^"}
    sizes = np.array([pt["parameters"] or 0 for pt in points], dtype=float)
    scale = 30 + 250 * (sizes / sizes.max() if sizes.max() > 0 else sizes)
    for pt, size in zip(points, scale):
        ax.scatter(pt["x"], pt["y"], s=size, marker=markers.get(pt["layers"], "D"), alpha=0.75,
                   color=f"C{archs.index(pt['arch'])}", edgecolors="white")
        ax.annotate(pt["label"], (pt["x"], pt["y"]), fontsize=6, xytext=(4, 4), textcoords="offset points")
    for k, arch in enumerate(archs):
        ax.scatter([], [], color=f"C{k}", label=arch)
    ax.legend(title="colour: architecture; marker: layers; size: parameters", fontsize=7, title_fontsize=7)
    ax.set(title=f"models by their predictions ({method.upper() if method == 'pca' else 't-SNE'})",
           xticks=[], yticks=[])
    return png(fig)
