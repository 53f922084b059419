"""Gate saturation (Karpathy et al. 2015, Section 4.2, Fig. 3).

For every sigmoid gate a model declares (`model.gates`: an LSTM's i, f, o; a GRU's r, z; a Nested
LSTM's gates at every depth; any third-party gated cell's), the fraction of characters at which
each unit is left-saturated (value below `left`, 0.1 in the paper: nearly closed) and
right-saturated (above `right`, 0.9: nearly open). The paper's finding to check: the first
layer's gates are diffuse (rarely saturated), deeper layers' gates are often saturated, and some
forget gates stay open nearly all the time (cells that remember for long).
"""

from __future__ import annotations

from pathlib import Path

from zoo import STREAM_PARAMS, Analyzer, Param, Report, ZooError


def _layer_and_gate(name: str) -> tuple[int, str]:
    _, layer, gate = name.split(".", 2)  # layers.{l}.{gate}
    return int(layer), gate


class Saturation(Analyzer):
    requires = frozenset({"trace", "gates"})
    params = {
        "left": Param(0.1, "a gate value below this is left-saturated (nearly closed)", check=lambda v: 0 < v < 1),
        "right": Param(0.9, "a gate value above this is right-saturated (nearly open)", check=lambda v: 0 < v < 1),
        "majority": Param(0.5, "count the units saturated more than this fraction of the time",
                          check=lambda v: 0 <= v < 1),
        "bins": Param(50, "histogram bins of gate values", check=lambda v: v >= 2),
        **STREAM_PARAMS,
    }
    template = Path(__file__).parent / "templates" / "saturation.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        if params["left"] >= params["right"]:
            raise ZooError(f"saturation: left ({params['left']}) must be below right ({params['right']})")

    def run(self, model, data, *, left, right, majority, bins, streams, chunk) -> Report:
        import torch

        from zoo import stream_trace

        gates = list(model.gates)
        closed = dict.fromkeys(gates, 0)
        opened = dict.fromkeys(gates, 0)
        hist = {g: torch.zeros(bins, dtype=torch.float64) for g in gates}
        seen = 0
        for part in stream_trace(model, data.ids, gates, streams, chunk, data.progress, "saturation"):
            for g in gates:
                values = part.internals[g][part.valid]  # [characters, units]
                closed[g] = closed[g] + (values < left).sum(0, dtype=torch.int32)
                opened[g] = opened[g] + (values > right).sum(0, dtype=torch.int32)
                hist[g] += torch.histc(values.float(), bins, 0, 1).double().cpu()
            seen += int(part.valid.sum())
        fractions = {g: ((closed[g] / seen).double().cpu().numpy(), (opened[g] / seen).double().cpu().numpy())
                     for g in gates}
        summary = _summarize(fractions, seen, left, right, majority)
        arrays = {}
        for g in gates:
            arrays[f"{g}.left"], arrays[f"{g}.right"] = fractions[g]
            arrays[f"{g}.hist"] = hist[g].numpy()
        figures = {"saturation.png": _scatter(fractions, left, right),
                   "gate-values.png": _histograms({g: hist[g].numpy() for g in gates}, left, right)}
        return Report(self.name, summary=summary, arrays=arrays, figures=figures)


def _fractions_summary(lo, hi, majority) -> dict:
    """Mean left-, right- and un-saturated fractions of some gate units, and how many are
    saturated on each side more than `majority` of the time."""
    return {"mean_left": float(lo.mean()), "mean_right": float(hi.mean()),
            "mean_unsaturated": float((1 - lo - hi).mean()),
            "left_majority": int((lo > majority).sum()), "right_majority": int((hi > majority).sum())}


def _summarize(fractions, seen, left, right, majority) -> dict:
    import numpy as np

    per_gate = {}
    for name, (lo, hi) in fractions.items():
        layer, gate = _layer_and_gate(name)
        per_gate[name] = {"layer": layer, "gate": gate, "units": len(lo), **_fractions_summary(lo, hi, majority)}
    layers = []
    for layer in sorted({g["layer"] for g in per_gate.values()}):
        names = [n for n, g in per_gate.items() if g["layer"] == layer]
        lo, hi = (np.concatenate([fractions[n][k] for n in names]) for k in (0, 1))
        layers.append({"layer": layer, "gate_units": len(lo), **_fractions_summary(lo, hi, majority)})
    return {"characters": seen, "left": left, "right": right, "majority": majority,
            "gates": per_gate, "layers": layers}


def _grid(names):
    """Rows: layers; columns: the gate kinds, in the model's order."""
    layers = sorted({_layer_and_gate(n)[0] for n in names})
    kinds = list(dict.fromkeys(_layer_and_gate(n)[1] for n in names))
    return layers, kinds


def _scatter(fractions, left, right) -> bytes:
    from zoo import new_figure, png

    layers, kinds = _grid(fractions)
    fig = new_figure(2.3 * len(kinds) + 0.6, 2.3 * len(layers) + 0.4)
    axes = fig.subplots(len(layers), len(kinds), squeeze=False, sharex=True, sharey=True)
    for name, (lo, hi) in fractions.items():
        layer, gate = _layer_and_gate(name)
        ax = axes[layers.index(layer)][kinds.index(gate)]
        ax.plot([0, 1], [1, 0], color="#bbbbbb", lw=0.8)  # left + right fractions cannot exceed 1
        ax.scatter(hi, lo, s=6, alpha=0.5, color=f"C{kinds.index(gate)}", linewidths=0)
        ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), title=f"layer {layer} · {gate}")
    for ax in axes[-1]:
        ax.set_xlabel(f"fraction right-saturated (> {right})")
    for row in axes:
        row[0].set_ylabel(f"fraction left-saturated (< {left})")
    return png(fig)


def _histograms(hists, left: float, right: float) -> bytes:
    from zoo import png

    return png(_histogram_figure(hists, left, right))


def _histogram_figure(hists, left: float, right: float):
    """Histograms of gate values, one panel per layer and gate, the page's width: the share of all
    (unit, character) values in each bin on a log axis shared by every panel (so that panels
    compare, and rare saturated values still show), ticks at whole decades only, and the
    saturation thresholds dashed."""
    import numpy as np
    from matplotlib.ticker import LogLocator, NullFormatter

    from zoo import PAGE_WIDTH, new_figure

    layers, kinds = _grid(hists)
    shares = {name: counts / max(counts.sum(), 1) for name, counts in hists.items()}
    smallest = min((s[s > 0].min() for s in shares.values() if (s > 0).any()), default=1e-3)
    bottom = 10 ** np.floor(np.log10(0.9 * smallest))  # the decade below the rarest bin, which stays visible
    fig = new_figure(PAGE_WIDTH, 1.9 * len(layers) + 0.5)
    axes = fig.subplots(len(layers), len(kinds), squeeze=False, sharex=True, sharey=True)
    for name, share in shares.items():
        layer, gate = _layer_and_gate(name)
        ax = axes[layers.index(layer)][kinds.index(gate)]
        edges = np.linspace(0, 1, len(share) + 1)
        ax.stairs(share, edges, fill=True, color=f"C{kinds.index(gate)}", alpha=0.7)
        for x in (left, right):
            ax.axvline(x, color="#888888", lw=0.7, ls="--")
        ax.set_title(f"layer {layer} · {gate}", fontsize=9)
    for ax in axes.flat:
        ax.set_yscale("log")
        ax.set_ylim(bottom, 1.5)
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=4))  # at most 4 labelled decades
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])  # the thresholds are the dashed lines
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("gate value")
    for row in axes:
        row[0].set_ylabel("share of values (log)")
    return fig
