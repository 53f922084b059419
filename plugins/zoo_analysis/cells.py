"""Interpretable cells (Karpathy et al. 2015, Section 4.2, Fig. 2).

Every memory cell's value, tanh(c) (a model without memory cells offers its hidden state h), is
recorded over the text and scored against every registered text feature (inside quotes, position
in the line, bracket depth, ...; see `zoo.text_features`):

* Pearson correlation between the cell and the feature, over every character;
* for on/off features, a threshold detector in the manner of LSTMVis: the cell "fires" where its
  value is above t (or below -t), and is scored by precision, recall and F1 against "feature on",
  the best threshold and sign kept.

The top cells per feature are reported and shown as the paper shows them: the text coloured per
character by the cell's value, -1 red to +1 blue. Statistics are accumulated online over chunks of
parallel streams (`zoo.analysis.stream_trace`), so a whole test split never sits in memory.

The colours and the thresholds assume values in [-1, 1], as tanh(c) and a tanh cell's h are. An
internal that leaves that range (a ReLU cell's h) is, by default (`scale="range"`), read divided by
its largest |value| in the analysed text, for the colours, the detector thresholds and the probe's
ridge penalty; the page says so. Since that largest value is known only at the end of the text, the
detector counts of such an internal take a second pass over it (bounded internals take one).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from zoo import STREAM_PARAMS, Analyzer, Param, Report, ZooError, or_none


class Cells(Analyzer):
    requires = frozenset({"trace"})
    params = {
        "features": Param((), "features to score, comma-separated (default: every registered feature)"),
        "state": Param("cell", "a cell's value: 'cell' = tanh(c) of the memory cells (h for models "
                               "without them), 'hidden' = h", choices=("cell", "hidden")),
        "top": Param(5, "cells reported per feature", check=lambda v: v >= 1),
        "rank_by": Param("correlation", "order of the top cells: |Pearson r|, or the detector's best F1 "
                                        "(on/off features only)", choices=("correlation", "f1")),
        "thresholds": Param((0.3, 0.5, 0.7), "detector thresholds t: a cell fires where its value > t "
                                             "(or < -t); LSTMVis uses 0.3",
                            check=lambda v: bool(v) and all(0 <= t < 1 for t in v)),
        "cells": Param((), "cells to show besides the top ones: layer:unit (2:46) or name:unit "
                           "(layers.0.nest.1.c:7)"),
        "excerpt_start": Param(0, "first character of the shown excerpt, in the analysed text", check=lambda v: v >= 0),
        "excerpt_length": Param(1000, "characters in the coloured-text panels", check=lambda v: 1 <= v <= 20_000),
        "columns": Param(100, "characters per row in the PNG panels (longer lines wrap)", check=lambda v: v >= 10),
        "probe_ridge": Param(0.01, "ridge penalty of the linear probes: each feature read out from all units of each "
                                   "internal at once, fitted on the first half of the text and scored (R^2) on the "
                                   "second", check=lambda v: v > 0),
        "scale": Param("range", "how an internal whose values leave [-1, 1] is read for the colours, the detector "
                                "thresholds and the probe's ridge: 'range' divides it by its largest |value| in the "
                                "analysed text; 'fixed' keeps the paper's -1..+1 (its colours then clip and the "
                                "thresholds are absolute). Internals within [-1, 1] are read as they are either way",
                       choices=("range", "fixed")),
        **STREAM_PARAMS,
    }
    template = Path(__file__).parent / "templates" / "cells.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        if params["excerpt_start"] >= len(data.ids):
            raise ZooError(f"cells: excerpt_start={params['excerpt_start']} is past the end of the text "
                           f"({len(data.ids):,} characters)")
        if data.text is None:
            raise ZooError("cells: the analysis needs the text (a model with a vocabulary, or text instead of ids)")
        units, _ = _units(model, params["state"])
        for cell in params["cells"]:  # an unknown cell or feature fails before any analyzer runs
            units.parse(cell)
        from zoo import registered

        for feature in params["features"]:
            registered("feature", feature)

    def run(self, model, data, *, features, state, top, rank_by, thresholds, cells, excerpt_start,
            excerpt_length, columns, probe_ridge, scale, streams, chunk) -> Report:
        import numpy as np

        from zoo import stream_trace, text_features

        units, squash = _units(model, state)
        names = units.names
        chosen = [units.parse(c) for c in cells]
        feats = text_features(data.text, list(features) or None)
        if not feats:
            raise ZooError("cells: no text features are available (the features plugin failed to load?)")
        n = len(data.ids)
        start = min(excerpt_start, max(n - 1, 0))
        stop = min(start + excerpt_length, n)
        stats = _Stats(feats, thresholds, units.widths, (start, stop), probe_ridge)
        read = lambda part: [part.internals[n].tanh() if squash else part.internals[n] for n in names]  # noqa: E731
        for part in stream_trace(model, data.ids, names, streams, chunk, data.progress, "cells"):
            stats.add(part, read(part))
        low, high = stats.ranges()  # per internal, over the whole text
        divisors = np.maximum(1.0, np.maximum(-low, high)) if scale == "range" else np.ones(len(names))
        if (divisors > 1).any():  # the thresholds move: count the detectors again on the scaled values
            stats.rescale(divisors)
            for part in stream_trace(model, data.ids, names, streams, chunk, data.progress, "cells (rescaled)"):
                stats.add(part, read(part), detectors_only=True)
        result = stats.finish()
        probed = result["probe_r2"]  # [internal, feature]
        unit_divisor = np.repeat(divisors, units.widths)
        ranges = {name: {"min": float(low[i]), "max": float(high[i]), "divisor": float(divisors[i]),
                         "bounded": bool(low[i] >= -1 and high[i] <= 1)} for i, name in enumerate(names)}

        table, scores = {}, {}
        for f, feature in enumerate(feats):
            binary = feats[feature].dtype == bool
            constant = bool(result["feature_std"][f] == 0)
            b = stats.binary.index(feature) if binary else None
            r = result["r"][:, f]
            key = result["f1"][:, b] if binary and rank_by == "f1" else np.nan_to_num(np.abs(r), nan=-1.0)
            rows = []
            for u in ([] if constant else np.argsort(-key, kind="stable")[:top]):
                row = {"cell": units.label(u), "name": units.name(u), "unit": units.local(u), "r": float(r[u])}
                if binary:
                    t = float(result["threshold"][u, b])
                    row.update(f1=float(result["f1"][u, b]), precision=float(result["precision"][u, b]),
                               recall=float(result["recall"][u, b]), threshold=t,
                               value_threshold=t * float(unit_divisor[u]),
                               sign="+" if result["sign"][u, b] > 0 else "-")
                rows.append(row)
                scores.setdefault(feature, int(u))
            table[feature] = {"binary": binary, "mean": float(result["feature_mean"][f]), "constant": constant,
                              "top": rows,
                              "probe_r2": {name: or_none(probed[i, f]) for i, name in enumerate(names)}}
        # most interpretable first: by the best cell's |r|; features constant in this text last
        table = dict(sorted(table.items(), key=lambda kv: -abs(kv[1]["top"][0]["r"]) if kv[1]["top"] else 1.0))

        excerpt = result["excerpt"]  # [units, characters], as recorded
        shown = excerpt / unit_divisor[:, None].astype(np.float32)  # what the colours show
        text = data.text[start:stop]
        safe = lambda name: re.sub(r"[^A-Za-z0-9_.-]+", "-", name)  # noqa: E731
        panels = [(feature, scores[feature], f"cell-{safe(feature)}.png") for feature in table if feature in scores]
        panels += [(f"chosen {units.label(u)}", u, f"cell-{safe(units.label(u))}.png") for u in chosen]
        figures = {file: _text_panel(text, shown[u], columns, f"{title}: cell {units.label(u)}"
                                     + (f" (values / {unit_divisor[u]:.3g})" if unit_divisor[u] > 1 else ""))
                   for title, u, file in panels}
        quantized = np.clip(np.round(shown * 127), -127, 127).astype(np.int8)
        summary = {"characters": n, "state": "tanh(c)" if squash else "h", "recorded": names,
                   "units": units.total, "rank_by": rank_by, "features": table, "scale": scale, "ranges": ranges,
                   "unbounded": [name for name in names if not ranges[name]["bounded"]],
                   "excerpt": {"start": start, "stop": stop}, "chosen": [units.label(u) for u in chosen]}
        html = {"text": text, "labels": units.labels(), "names": names, "width": units.widths[0],
                "divisors": [float(d) for d in divisors],
                "values": base64.b64encode(quantized.tobytes()).decode("ascii"),
                "panels": [{"title": t, "unit": int(u), "label": units.label(u)} for t, u, _ in panels]}
        arrays = {"correlation": result["r"], "feature_names": np.array(list(feats)),
                  "detector_f1": result["f1"], "detector_threshold": result["threshold"] * result["sign"],
                  "detector_features": np.array(stats.binary), "unit_mean": result["mean"],
                  "unit_std": result["std"], "unit_labels": np.array(units.labels()), "unit_divisor": unit_divisor,
                  "excerpt": excerpt.astype(np.float16 if np.abs(excerpt).max(initial=0) < 6e4 else np.float32)}
        return Report(self.name, summary=summary, arrays=arrays, figures=figures, html=html)


def _units(model, state: str) -> tuple[_UnitIndex, bool]:
    """The units the analysis records, and whether they are squashed with tanh (`_recorded_names`)."""
    names, squash = _recorded_names(model, state)
    return _UnitIndex(names, [model.config.hidden] * len(names)), squash


def _recorded_names(model, state: str) -> tuple[list[str], bool]:
    """The internals whose units are "cells" (the memory cells, or h), and whether they are
    memory cells (shown as tanh(c), as the paper does)."""
    layers = range(model.config.layers)
    if state == "cell" and "cells" in model.capabilities:
        return [f"layers.{layer}.{c}" for layer in layers for c in model.cell_names], True
    return [f"layers.{layer}.h" for layer in layers], False


class _UnitIndex:
    """Units of several recorded internals, numbered one after another, with readable labels:
    ``2:46`` where a layer has one recorded internal, else ``layers.0.nest.1.c:46``."""

    def __init__(self, names: list[str], widths: list[int]):
        self.names, self.widths = names, widths
        self.offsets = [sum(widths[:i]) for i in range(len(widths))]
        self.total = sum(widths)
        per_layer: dict[str, int] = {}
        for name in names:
            layer = name.split(".")[1]
            per_layer[layer] = per_layer.get(layer, 0) + 1
        self.short = {name: per_layer[name.split(".")[1]] == 1 for name in names}

    def _locate(self, u: int) -> tuple[int, int]:
        i = max(k for k, off in enumerate(self.offsets) if off <= u)
        return i, u - self.offsets[i]

    def name(self, u: int) -> str:
        return self.names[self._locate(u)[0]]

    def local(self, u: int) -> int:
        return self._locate(u)[1]

    def label(self, u: int) -> str:
        i, j = self._locate(u)
        name = self.names[i]
        return f"{name.split('.')[1]}:{j}" if self.short[name] else f"{name}:{j}"

    def labels(self) -> list[str]:
        return [self.label(u) for u in range(self.total)]

    def parse(self, text: str) -> int:
        """A global unit index from ``layer:unit`` or ``name:unit``, or a one-line error."""
        where, sep, unit = text.strip().rpartition(":")
        if not sep or not unit.isdigit():
            raise ZooError(f"cells: {text!r} is not a cell: write layer:unit (2:46) or name:unit")
        candidates = [n for n in self.names if n == where or n.split(".")[1] == where]
        if not candidates:
            layers = sorted({n.split(".")[1] for n in self.names}, key=int)
            raise ZooError(f"cells: no layer or internal {where!r} "
                           f"(layers {', '.join(layers)}; recorded: {', '.join(self.names)})")
        i = self.names.index(candidates[0])
        if int(unit) >= self.widths[i]:
            raise ZooError(f"cells: unit {unit} is out of range for {self.names[i]} "
                           f"({self.widths[i]} units: 0-{self.widths[i] - 1})")
        return self.offsets[i] + int(unit)


class _Probe:
    """A linear probe of every feature from each internal: a ridge regression on all of its units
    (and a constant), fitted on the characters of the first half of the text and scored by R^2 on
    the second. Both halves need only Gram sums, added chunk by chunk, so no trace is kept. Where
    one cell follows a feature, `r` says so; where the feature is spread over many, this does."""

    def __init__(self, widths: list[int], features, split_at: int, ridge: float):
        import torch

        self.features, self.split_at, self.ridge = features, split_at, ridge
        z = lambda *shape: torch.zeros(*shape, dtype=torch.float64)  # noqa: E731
        count = features.shape[1]
        self.gram = [z(2, w + 1, w + 1) for w in widths]  # [half, unit + 1, unit + 1]
        self.xy = [z(2, w + 1, count) for w in widths]
        self.yy, self.ys, self.n = z(2, count), z(2, count), z(2)

    def add(self, values, where) -> None:
        import torch

        y_all = self.features[where].double()
        second = where >= self.split_at
        for half, mask in enumerate((~second, second)):
            if not mask.any():
                continue
            y = y_all[mask]
            self.n[half] += len(y)
            self.yy[half] += (y * y).sum(0)
            self.ys[half] += y.sum(0)
            for i, x in enumerate(values):
                x1 = torch.cat([x[mask], torch.ones(len(y), 1)], 1)
                self.gram[i][half] += (x1.T @ x1).double()
                self.xy[i][half] += x1.double().T @ y

    def finish(self, divisors=None):
        """R^2 on the second half, ``[internal, feature]`` (NaN where a half is empty or a
        feature is constant there). With `divisors` (one per internal) the fit is that of the
        internal's values divided by its divisor, exactly: the Gram sums of ``[x / d, 1]`` are
        those of ``[x, 1]`` scaled, so only the ridge penalty's weight changes."""
        import numpy as np
        import torch

        if min(self.n) == 0:
            return np.full((len(self.gram), self.yy.shape[1]), np.nan)
        spread = self.yy[1] - self.ys[1] ** 2 / self.n[1]
        found = []
        for i, (gram, xy) in enumerate(zip(self.gram, self.xy)):
            if divisors is not None and divisors[i] != 1:
                d = torch.full((gram.shape[-1],), 1.0 / float(divisors[i]), dtype=gram.dtype)
                d[-1] = 1.0  # the constant
                gram, xy = gram * d[:, None] * d[None, :], xy * d[:, None]
            weights = torch.linalg.solve(gram[0] + self.ridge * torch.eye(len(gram[0]), dtype=gram.dtype), xy[0])
            error = self.yy[1] - 2 * (weights * xy[1]).sum(0) + (weights * (gram[1] @ weights)).sum(0)
            found.append(torch.where(spread > 1e-12, 1 - error / spread, torch.nan))
        return torch.stack(found).numpy()


class _Stats:
    """Sums from which correlations and detector scores follow exactly, added chunk by chunk."""

    def __init__(self, feats: dict, thresholds: tuple[float, ...], widths: list[int], excerpt: tuple[int, int],
                 ridge: float):
        import numpy as np
        import torch

        units, self.widths = sum(widths), widths
        self.names = list(feats)
        self.binary = [k for k, v in feats.items() if v.dtype == bool]
        matrix = np.stack([np.asarray(v, dtype=np.float64) for v in feats.values()], axis=1)
        self.feature_sum, self.feature_sq = matrix.sum(0), (matrix ** 2).sum(0)
        self.features = torch.from_numpy(matrix.astype(np.float32))
        self.on = self.features[:, [self.names.index(k) for k in self.binary]]
        self.thresholds = thresholds
        self.n = 0
        z = lambda *shape: torch.zeros(*shape, dtype=torch.float64)  # noqa: E731
        self.sx, self.sxx, self.sxf = z(units), z(units), z(units, len(self.names))
        # Detector counts by bucket: a value's bucket above the thresholds t (ascending) is the
        # number of t it exceeds, and below the -t the number of -t it reaches, so that one
        # bucketize and one bincount per side replace a comparison and a product per threshold.
        self.levels = torch.tensor(sorted(thresholds), dtype=torch.float32)
        k = len(thresholds) + 1
        self.fires = torch.zeros(2, units * k, dtype=torch.int64)  # sign (+, -) x unit x bucket
        self.hits = torch.zeros(2, len(self.binary), units * k, dtype=torch.int64)
        self.excerpt_span = excerpt
        self.excerpt = np.zeros((units, excerpt[1] - excerpt[0]), dtype=np.float32)
        self.probe = _Probe(widths, self.features, len(matrix) // 2, ridge)
        self.low = torch.full((units,), torch.inf)
        self.high = torch.full((units,), -torch.inf)
        self.divisors = np.ones(len(widths))
        self.unit_divisor = torch.ones(units)

    def ranges(self):
        """The smallest and largest value of each internal over what `add` has seen."""
        import numpy as np

        return (np.array([part.min().item() for part in self.low.split(self.widths)]),
                np.array([part.max().item() for part in self.high.split(self.widths)]))

    def rescale(self, divisors) -> None:
        """Read each internal divided by its divisor from now on: the detector counts start
        again (another pass of `add` with ``detectors_only``); the rest is rescaled at the end."""
        import numpy as np
        import torch

        self.divisors = np.asarray(divisors, dtype=np.float64)
        self.unit_divisor = torch.from_numpy(np.repeat(self.divisors, self.widths).astype(np.float32))
        self.fires.zero_()
        self.hits.zero_()

    def add(self, part, values, detectors_only: bool = False) -> None:
        import torch

        x_all = torch.cat(values, dim=-1).float().cpu()  # [streams, steps, units]
        valid = part.valid
        x = x_all[valid]  # [characters, units]
        where = part.index[valid]
        on = self.on[where].bool()
        if not detectors_only:
            self._add_sums(x_all, x, valid, part.index, where)
        self._add_detectors(x / self.unit_divisor if self.divisors.max() > 1 else x, on)

    def _add_sums(self, x_all, x, valid, index, where) -> None:
        import torch

        f = self.features[where]
        self.n += len(x)
        self.sx += x.sum(0, dtype=torch.float64)
        self.sxx += (x * x).sum(0, dtype=torch.float64)
        self.sxf += (x.T @ f).double()
        if len(x):
            self.low = torch.minimum(self.low, x.min(0).values)
            self.high = torch.maximum(self.high, x.max(0).values)
        self.probe.add(x.split(self.widths, dim=1), where)
        a, b = self.excerpt_span
        shown = valid & (index >= a) & (index < b)
        if shown.any():
            self.excerpt[:, (index[shown] - a).numpy()] = x_all[shown].T.numpy()

    def _add_detectors(self, x, on) -> None:
        import torch

        k = len(self.levels) + 1
        offsets = torch.arange(x.shape[1]) * k
        above = torch.bucketize(x, self.levels, right=False)  # how many t < x
        reach = torch.bucketize(x, -self.levels.flip(0), right=True)  # how many -t <= x
        for s, bucket in enumerate((above, reach)):
            key = bucket + offsets
            self.fires[s] += torch.bincount(key.flatten(), minlength=self.fires.shape[1])
            for f in range(on.shape[1]):
                self.hits[s, f] += torch.bincount(key[on[:, f]].flatten(), minlength=self.fires.shape[1])

    def _by_threshold(self, counts, *lead: int):
        """Bucket counts ``[2, *lead, units * (K+1)]`` -> firing counts ``[sign, threshold, *lead, units]``,
        thresholds in parameter order. For +, bucket j holds values above j of the sorted levels,
        so x > t (rank r) sums buckets j >= r+1; for -, bucket j holds values at or above j of the
        ascending -t, so x < -t sums buckets j <= K-1-r."""
        import numpy as np

        k = len(self.levels)
        buckets = counts.numpy().reshape(2, *lead, -1, k + 1)
        at_least = np.flip(np.cumsum(np.flip(buckets[0], -1), -1), -1)
        at_most = np.cumsum(buckets[1], -1)
        ranks = np.argsort(np.argsort(self.thresholds))
        plus = np.stack([at_least[..., r + 1] for r in ranks])
        minus = np.stack([at_most[..., k - 1 - r] for r in ranks])
        return np.stack([plus, minus])

    def finish(self) -> dict:
        import numpy as np

        n = self.n
        mean, mean_sq = (self.sx / n).numpy(), (self.sxx / n).numpy()
        fmean, fsq = self.feature_sum / n, self.feature_sq / n
        std = np.sqrt(np.maximum(mean_sq - mean ** 2, 0))
        fstd = np.sqrt(np.maximum(fsq - fmean ** 2, 0))
        cov = (self.sxf / n).numpy() - mean[:, None] * fmean[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where((std[:, None] > 1e-12) & (fstd[None, :] > 0), cov / (std[:, None] * fstd[None, :]), np.nan)
            fires = self._by_threshold(self.fires)[..., None]  # [sign, threshold, unit, 1]
            hits = self._by_threshold(self.hits, len(self.binary)).swapaxes(-1, -2)  # [sign, threshold, unit, feature]
            positives = self.on.sum(0).double().numpy()
            precision = np.where(fires > 0, hits / np.maximum(fires, 1), 0.0)
            recall = np.where(positives > 0, hits / np.maximum(positives, 1), 0.0)
            f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
        flat = f1.reshape(-1, *f1.shape[2:])  # (sign x threshold) x unit x feature
        best = flat.argmax(0)
        pick = lambda a: np.take_along_axis(a.reshape(flat.shape), best[None], 0)[0]  # noqa: E731
        thresholds = np.array(self.thresholds)
        return {"r": np.clip(r, -1, 1), "mean": mean, "std": std, "feature_mean": fmean, "feature_std": fstd,
                "f1": pick(f1), "precision": pick(precision), "recall": pick(recall),
                "threshold": thresholds[best % len(thresholds)], "sign": np.where(best < len(thresholds), 1, -1),
                "excerpt": self.excerpt, "probe_r2": self.probe.finish(self.divisors)}


def _layout(text: str, columns: int) -> tuple[list[tuple[int, int, int, str]], int]:
    """Grid cells ``(row, column, index, glyph)`` for an excerpt: lines as in the text (so code
    keeps its indentation), tabs to the next multiple of 8, long lines wrapped at `columns`;
    a newline is drawn as a return sign at the end of its line, a carriage return as its colour."""
    cells, row, col = [], 0, 0
    for i, ch in enumerate(text):
        width = 8 - col % 8 if ch == "\t" else 1
        if col + width > columns:
            row, col = row + 1, 0
        glyph = "\u21b5" if ch == "\n" else ("" if ch in " \t\r" else ch)  # a carriage return: its colour alone
        for k in range(width):
            cells.append((row, col + k, i, glyph if k == 0 else ""))
        col += width
        if ch == "\n":
            row, col = row + 1, 0
    return cells, row + 1


def _text_panel(text: str, values, columns: int, title: str) -> bytes:
    """The paper's figure: the text on a grid, each character's background coloured by the
    cell's value (-1 red, 0 white, +1 blue; `values` already divided as `scale` says)."""
    import matplotlib
    import numpy as np

    from zoo import new_figure, png

    cells, rows = _layout(text, columns)
    grid = np.full((rows, columns), np.nan)
    for r, c, i, _ in cells:
        grid[r, c] = values[i]
    width, height = columns * 0.1 + 0.2, rows * 0.19 + 0.45
    fig = new_figure(width, height, layout=None)  # fixed margins: a layout engine would draw the text twice
    ax = fig.add_axes((0.1 / width, 0.1 / height, 1 - 0.2 / width, 1 - 0.45 / height))
    colors = matplotlib.colormaps["RdBu"](np.linspace(0.12, 0.88, 256))  # the light part, so text stays legible
    cmap = matplotlib.colors.ListedColormap(colors).with_extremes(bad="white")
    ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    for r, c, _, glyph in cells:
        if glyph:
            ax.text(c, r, glyph, ha="center", va="center", fontsize=7.5, family="monospace", color="#111111")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left")
    return png(fig, dpi=110)
