"""Ablation: do the cells that `cells` finds matter to the model? (the paper's cells, made causal)

Karpathy et al. 2015 (Section 4.2) find cells whose value follows a feature of the text (inside a
quote, position in the line). That a cell *correlates* with a feature does not say the model
*uses* it. Here each chosen cell is replaced while the model reads the text (`RecurrentLM.
intervene`: at every step, the change flowing on through the recurrence) and the model's loss is
compared, character by character, with the intact model's:

* the cells: the one whose value (tanh(c), or h without memory cells, as `cells` reads it) has the
  largest |Pearson r| with each on/off feature, or those given with ``cells``;
* the intervention (``kind``): the unit held at its mean over the text (mean ablation), at zero,
  or at its smallest or largest value in the text (a clamp);
* the effect: the mean change in loss (nats per character; positive: the model got worse) where
  the feature is on and where it is off, each with its paired standard error
  (`zoo.paired_difference`: both losses are the same characters' predictions);
* the control: the same intervention on ``controls`` random units of the same layer; a cell matters
  beyond chance where its effect lies outside the controls' spread.

All the variants read the text as rows of one batch; what lies below the lowest intervened layer
is computed once (`RecurrentLM.forward_from`).
"""

from __future__ import annotations

import math
from pathlib import Path

from zoo import BLOCK, STREAM_PARAMS, Analyzer, Param, Report, ZooError

KINDS = ("mean", "zero", "min", "max")


class Ablation(Analyzer):
    requires = frozenset({"trace", "intervene", "log_probs"})
    params = {
        "cells": Param((), "cells to test, layer:unit (2:46); default: the top cell of each feature"),
        "features": Param((), "on/off features that split the text (default: every registered on/off feature with at "
                              "least min_count characters on and off)"),
        "state": Param("cell", "the internal a cell is: 'cell' = the memory cells c (h for models without them), "
                               "'hidden' = h", choices=("cell", "hidden")),
        "kind": Param("mean", "what the unit is held at, at every step: its mean over the text, zero, or its "
                              "smallest or largest value in the text", choices=KINDS),
        "controls": Param(20, "random units of each tested layer given the same intervention", check=lambda v: v >= 0),
        "seed": Param(0, "for drawing the control units"),
        "min_count": Param(50, "characters a feature needs on, and off, to be tested", check=lambda v: v >= 2),
        "block": BLOCK,
        "excerpt_start": Param(0, "first character of the text coloured by the top cell's effect",
                               check=lambda v: v >= 0),
        "excerpt_length": Param(600, "characters in that panel", check=lambda v: 1 <= v <= 20_000),
        **STREAM_PARAMS,
    }
    template = Path(__file__).parent / "templates" / "ablation.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        if params["excerpt_start"] >= len(data.ids):
            raise ZooError(f"ablation: excerpt_start={params['excerpt_start']} is past the end of the text "
                           f"({len(data.ids):,} characters)")
        if data.text is None:
            raise ZooError("ablation: the analysis needs the text (its features split the characters)")
        for cell in params["cells"]:
            _parse(model, cell, _internal(model, params["state"]))
        if params["features"]:
            from zoo import registered

            for name in params["features"]:
                registered("feature", name)

    def run(self, model, data, *, cells, features, state, kind, controls, seed, min_count, block, excerpt_start,
            excerpt_length, streams, chunk) -> Report:
        import numpy as np

        from zoo import text_features

        internal = _internal(model, state)
        found = text_features(data.text, list(features) or None)
        graded = [name for name in features if found[name].dtype != bool]
        if graded:
            raise ZooError(f"ablation: {', '.join(graded)} {'is' if len(graded) == 1 else 'are'} graded, not on/off: "
                           "the characters split where a feature is on")
        # a loss for every character but the last
        feats = {name: v[: len(data.ids) - 1] for name, v in found.items() if v.dtype == bool}
        kept = {name: on for name, on in feats.items() if min(on.sum(), (~on).sum()) >= min_count}
        if not kept:
            raise ZooError(f"ablation: no on/off feature has {min_count} characters on and off in this text "
                           f"(tried: {', '.join(feats) or 'none'})")
        stats = _unit_stats(model, data, internal, kept, streams, chunk)
        tested = _chosen(model, cells, internal, kept, stats)
        rng = np.random.default_rng(seed)
        layers = sorted({layer for layer, _, _ in tested})
        rows = [(layer, unit) for layer, unit, _ in tested]
        drawn: dict[int, list[int]] = {}
        for layer in layers:
            others = np.setdiff1d(np.arange(model.config.hidden), [u for lyr, u in rows if lyr == layer])
            drawn[layer] = sorted(rng.choice(others, size=min(controls, len(others)), replace=False).tolist())
            rows += [(layer, int(u)) for u in drawn[layer]]
        values = {row: float(stats[kind][row[0]][row[1]]) for row in rows}
        base, changed = _ablated_losses(model, data.ids, internal, rows, values, streams, chunk, data.progress)
        return _report(self.name, data, internal, kind, tested, drawn, rows, kept, stats["r"], base, changed, block,
                       excerpt_start, excerpt_length)


def _internal(model, state: str) -> str:
    """The per-layer internal a 'cell' is, as the cells analyzer reads it."""
    return model.cell_names[0] if state == "cell" and model.cell_names else "h"


def _parse(model, cell: str, internal: str) -> tuple[int, int]:
    layer, sep, unit = cell.partition(":")
    if not sep or not layer.isdigit() or not unit.isdigit():
        raise ZooError(f"ablation: cells are layer:unit (2:46), not {cell!r}")
    layer, unit = int(layer), int(unit)
    if layer >= model.config.layers or unit >= model.config.hidden:
        raise ZooError(f"ablation: cell {cell} is not in a {model.config.layers}x{model.config.hidden} model")
    if f"layers.{layer}.{internal}" not in model.intervenable:
        raise ZooError(f"ablation: {model.arch} cannot replace {internal} "
                       f"(it replaces {', '.join(model.intervenable)})")
    return layer, unit


def _unit_stats(model, data, internal: str, feats: dict, streams: int, chunk: int) -> dict:
    """Per layer and unit (``[layers, H]``): the mean, smallest and largest value of the internal
    over the text (what ``kind`` holds a unit at), and, per feature, the Pearson r between the
    unit as the cells analyzer reads it (tanh of a memory cell) and the feature being on."""
    import numpy as np
    import torch

    from zoo import stream_trace

    layers, hidden = model.config.layers, model.config.hidden
    names = [f"layers.{layer}.{internal}" for layer in range(layers)]
    on = {name: torch.from_numpy(np.append(f, False)) for name, f in feats.items()}  # the last character: off
    zeros = torch.zeros(layers, hidden, dtype=torch.float64)
    total, shown_sum, shown_sq = zeros.clone(), zeros.clone(), zeros.clone()
    lo, hi = torch.full((layers, hidden), math.inf), torch.full((layers, hidden), -math.inf)
    with_feature = {name: zeros.clone() for name in feats}
    count, on_count = 0, dict.fromkeys(feats, 0.0)
    for part in stream_trace(model, data.ids, names, streams, chunk, data.progress, "ablation: choosing cells"):
        valid = part.valid.reshape(-1)
        where = part.index.reshape(-1)[valid]
        raw = torch.stack([part.internals[name].reshape(-1, hidden)[valid] for name in names])  # [L, N, H]
        lo, hi = torch.minimum(lo, raw.amin(1)), torch.maximum(hi, raw.amax(1))
        x = raw.double()
        total += x.sum(1)
        shown = x if internal == "h" else torch.tanh(x)
        shown_sum += shown.sum(1)
        shown_sq += (shown ** 2).sum(1)
        count += len(where)
        for name in feats:
            f = on[name][where].double()
            with_feature[name] += torch.einsum("lnh,n->lh", shown, f)
            on_count[name] += float(f.sum())
    mean, shown_mean = total / count, shown_sum / count
    variance = (shown_sq / count - shown_mean ** 2).clamp(min=1e-12)
    r = {}
    for name in feats:
        p = on_count[name] / count
        r[name] = ((with_feature[name] / count - shown_mean * p) / torch.sqrt(variance * p * (1 - p))).float().numpy()
    return {"mean": mean.float().numpy(), "zero": np.zeros((layers, hidden), dtype=np.float32), "min": lo.numpy(),
            "max": hi.numpy(), "r": r}


def _chosen(model, cells: tuple, internal: str, feats: dict, stats: dict) -> list[tuple[int, int, list[str]]]:
    """(layer, unit, the features it was chosen for) of each tested cell: the unit with the
    largest |r| for each feature (one unit may top several), or those given (every feature)."""
    import numpy as np

    if cells:
        return [(*_parse(model, cell, internal), list(feats)) for cell in dict.fromkeys(cells)]
    chosen: dict[tuple[int, int], list[str]] = {}
    for name in feats:
        layer, unit = np.unravel_index(int(np.nanargmax(np.abs(stats["r"][name]))), stats["r"][name].shape)
        chosen.setdefault((int(layer), int(unit)), []).append(name)
    return [(layer, unit, names) for (layer, unit), names in chosen.items()]


def _ablated_losses(model, ids, internal: str, rows: list[tuple[int, int]], values: dict, streams: int, chunk: int,
                    progress: bool):
    """Per-character losses of the intact model (``[N - 1]``) and of each row's variant
    (``[rows, N - 1]``: unit ``rows[r]`` held at ``values[rows[r]]``), the text read as
    `streams` parallel streams with every variant a block of rows of one batch."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from zoo import stream_layout, stream_trace

    n, variants = len(ids), len(rows)
    first = min(layer for layer, _ in rows)
    lines, steps = stream_layout(n, streams)
    edits = {}
    for layer in sorted({layer for layer, _ in rows}):
        which = [r for r, (lyr, _) in enumerate(rows) if lyr == layer]
        row_ids = torch.cat([torch.arange(r * lines, (r + 1) * lines) for r in which])
        units = torch.tensor([rows[r][1] for r in which]).repeat_interleave(lines)
        held = torch.tensor([values[rows[r]] for r in which]).repeat_interleave(lines)

        def edit(value, t, row_ids=row_ids, units=units, held=held):
            value = value.clone()
            value[row_ids, units] = held.to(value.dtype)
            return value

        edits[f"layers.{layer}.{internal}"] = edit
    padded = torch.cat([torch.as_tensor(ids), torch.zeros(lines * steps + 1 - n, dtype=torch.long)])
    base = np.zeros(n - 1, dtype=np.float64)
    changed = np.zeros((variants, n - 1), dtype=np.float64)
    below = f"layers.{first - 1}.h" if first else None
    upper = None
    step = max(1, chunk // max(1, variants))  # memory as one trace of `chunk` steps
    for part in stream_trace(model, ids, [below] if below else [], streams, step, progress, "ablation: intervening"):
        targets = padded[part.index + 1].to(part.logits.device)
        scored = (part.index + 1 < n).reshape(-1)
        positions = part.index.reshape(-1)[scored].numpy()
        intact = F.cross_entropy(part.logits.flatten(0, 1), targets.reshape(-1), reduction="none")
        base[positions] = intact[scored].double().cpu().numpy()
        inputs = part.internals[below] if below else model.embed(padded[part.index].to(part.logits.device))
        with torch.no_grad(), model.intervene(edits):
            logits, upper = model.forward_from(first, inputs.repeat(variants, 1, 1), upper)
        losses = F.cross_entropy(logits.flatten(0, 1), targets.repeat(variants, 1).reshape(-1), reduction="none")
        changed[:, positions] = losses.view(variants, -1)[:, scored].double().cpu().numpy()
    return base, changed


def _report(name, data, internal, kind, tested, drawn, rows, feats, r_of, base, changed, block, excerpt_start,
            excerpt_length) -> Report:
    import numpy as np

    from zoo import or_none, paired_difference

    def effect(r: int, on) -> dict:
        found = paired_difference(on.astype(np.int64), changed[r], base, minlength=2, block=block)
        return {side: {"count": int(found["count"][k]), "mean": float(found["mean"][k]), "se": or_none(found["se"][k])}
                for side, k in (("on", 1), ("off", 0))}

    results = []
    for r, (layer, unit, features) in enumerate(tested):
        for feature in features:
            own = effect(r, feats[feature])
            controls = [effect(rows.index((layer, u)), feats[feature]) for u in drawn[layer]]
            results.append({"cell": f"{layer}:{unit}", "feature": feature, "r": float(r_of[feature][layer, unit]),
                            **own, "controls": _spread(controls)})
    summary = {"internal": internal, "kind": kind, "block": block, "characters": int(len(base)),
               "intact_nats": float(base.mean()), "results": results,
               "controls": {str(layer): [f"{layer}:{u}" for u in units] for layer, units in drawn.items()}}
    figures = {"effects.png": _effects_figure(results)}
    if results:
        top = max(results, key=lambda row: row["on"]["mean"] - row["off"]["mean"])
        r = [f"{layer}:{unit}" for layer, unit, _ in tested].index(top["cell"])
        figures["text.png"] = _text_figure(data.text, changed[r] - base, excerpt_start, excerpt_length, top)
    arrays = {"intact": base.astype(np.float32), "changed": changed.astype(np.float32),
              "rows": np.array([[layer, unit] for layer, unit in rows])}
    return Report(name, summary=summary, arrays=arrays, figures=figures)


def _spread(effects: list[dict]) -> dict:
    """The controls' effects where the feature is on and off: mean and standard deviation over units."""
    import numpy as np

    out = {"units": len(effects)}
    for side in ("on", "off"):
        means = np.array([e[side]["mean"] for e in effects])
        out[side] = {"mean": float(means.mean()) if len(means) else None,
                     "sd": float(means.std(ddof=1)) if len(means) > 1 else None,
                     "largest": float(means.max()) if len(means) else None}
    return out


def _effects_figure(results: list[dict]) -> bytes:
    """Each tested cell's effect where its feature is on and off (95 % intervals: 1.96 paired
    errors), beside the controls' range (their mean ± 2 sd)."""
    from zoo import new_figure, png

    fig = new_figure(8, 1.2 + 0.45 * max(1, len(results)))
    ax = fig.add_subplot()
    for y, row in enumerate(results):
        for side, dy, color in (("on", -0.12, "C3"), ("off", 0.12, "C0")):
            own, control = row[side], row["controls"][side]
            if control["mean"] is not None and control["sd"] is not None:
                ax.plot([control["mean"] - 2 * control["sd"], control["mean"] + 2 * control["sd"]], [y + dy] * 2,
                        color=color, alpha=0.25, linewidth=6, solid_capstyle="butt")
            ax.errorbar(own["mean"], y + dy, xerr=1.96 * (own["se"] or 0), fmt="o", color=color, markersize=4,
                        capsize=2, label=f"feature {side}" if y == 0 else None)
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.set_yticks(range(len(results)), [f"{row['cell']} ({row['feature']})" for row in results], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="change in loss when the unit is held (nats per character; > 0: worse)",
           title="each cell's effect (dots, 95 % intervals) against random units of its layer (bands: mean ± 2 sd)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return png(fig)


def _text_figure(text: str, delta, start: int, length: int, row: dict) -> bytes:
    """The text coloured by how much worse (red) or better (blue) each character's prediction
    got with the top cell held."""
    import numpy as np

    from .cells import _text_panel

    start = min(start, max(0, len(delta) - 1))
    shown = np.asarray(delta[start:start + length], dtype=np.float64)
    scale = max(float(np.abs(shown).max(initial=0)), 1e-12)
    return _text_panel(text[start:start + len(shown)], -shown / scale, 100,
                       f"cell {row['cell']} held ({row['feature']}): red = the next character got harder to predict "
                       f"(darkest: {scale:.3g} nats)")
