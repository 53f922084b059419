"""Connectivity (Madsen 2019, Distill, "Visualizing memorization in RNNs").

For each target position t and each earlier input position t' <= t, the magnitude of the gradient
of the target's logit at t (the logit of the character that actually comes next, or of the
predicted one) with respect to the input at t'. Defaults follow the article's code: the gradient
is taken with respect to the input vectors, mapped to one-hot space through the embedding matrix
(for a one-hot model it already is), and its squares are summed (a squared L2 norm; the article's
formula shows the norm itself); the figure divides by the maximum over the window.

Computed batched, as the article's code does: one batch row per target position, so a block of
targets costs one forward and one backward pass of the model's fast path, and row r's gradient
holds target r's connectivity to every input at once. The rows of a block run only as many steps
as the block's last target needs.

Beyond the article: the connectivity horizons, the distance back that holds 50 % and 90 % of a
target's connectivity mass, averaged over the targets, so that two models compare by one number
each, and the mass as a function of distance.
"""

from __future__ import annotations

import base64
from pathlib import Path

from zoo import Analyzer, Param, Report, ZooError

NORMS = ("l2-squared", "l2", "l1")


class Connectivity(Analyzer):
    name = "connectivity"
    summary = "Connectivity: how strongly each earlier input moves each prediction (Madsen 2019)"
    requires = frozenset({"gradients"})
    params = {
        "target": Param("next", "whose logit: the character that comes next, or the model's argmax prediction",
                        choices=("next", "predicted")),
        "norm": Param("l2-squared", "magnitude of a gradient vector: l2-squared (the article's code), l2 "
                                    "(the article's formula) or l1", choices=NORMS),
        "space": Param("onehot", "differentiate w.r.t. one-hot inputs (embedding gradients mapped back "
                                 "through the embedding matrix, as the article) or the input vectors as they are",
                       choices=("onehot", "input")),
        "normalize": Param("max", "display scale: divide by the window's maximum (the article), by each "
                                  "target's total, or not at all", choices=("max", "target", "none")),
        "start": Param(0, "first character of the window, in the analysed text", check=lambda v: v >= 0),
        "length": Param(200, "characters in the window (targets x inputs)", check=lambda v: 2 <= v <= 5000),
        "block": Param(32, "target positions per backward pass (memory: block x length x input size)",
                       check=lambda v: v >= 1),
        "predictions": Param(5, "top predictions shown for each position", check=lambda v: 1 <= v <= 20),
        "heatmap": Param(200, "positions in the PNG heatmap (the window's first ones)", check=lambda v: v >= 2),
    }
    template = Path(__file__).parent / "templates" / "connectivity.html.j2"

    def run(self, model, data, *, target, norm, space, normalize, start, length, block, predictions,
            heatmap) -> Report:
        import numpy as np
        import torch

        n = len(data.ids)
        if start >= n - 1:
            raise ZooError(f"connectivity: start={start} leaves no target in a text of {n} characters")
        ids = data.ids[start:start + length + 1]  # one more than the window: the last target's next character
        window = ids[:-1]
        conn, logits = connectivity_matrix(model, ids, target=target, norm=norm, space=space, block=block)
        conn = conn.numpy()
        steps = len(window)
        mass = conn.sum(1)
        horizons = _horizons(conn, (0.5, 0.9))
        curve = _mass_by_distance(conn)
        probs = torch.softmax(logits.float(), -1)
        top_p, top_i = probs.topk(min(predictions, probs.shape[-1]), dim=-1)
        targets = ids[1:steps + 1]
        scale = {"max": conn.max(), "target": None, "none": 1.0}[normalize]
        shown = conn / np.maximum(mass[:, None], 1e-30) if normalize == "target" else conn / max(scale, 1e-30)
        quantized = np.round(np.clip(shown / max(shown.max(), 1e-30), 0, 1) * 255).astype(np.uint8)
        text = data.text[start:start + steps] if data.text is not None else None
        vocab = data.vocab
        summary = {
            "window": {"start": start, "characters": steps},
            "target": target, "norm": norm, "space": space, "normalize": normalize,
            "horizon_50": {"mean": float(horizons[0].mean()), "median": float(np.median(horizons[0]))},
            "horizon_90": {"mean": float(horizons[1].mean()), "median": float(np.median(horizons[1]))},
            "mass_by_distance": [float(v) for v in curve[:50]],
        }
        arrays = {"connectivity": conn, "horizon_50": horizons[0], "horizon_90": horizons[1],
                  "mass_by_distance": curve, "targets": targets.numpy(), "window_ids": window.numpy()}
        figures = {"connectivity.png": _heatmap(conn[:heatmap, :heatmap], text[:heatmap] if text else None),
                   "horizons.png": _horizon_figure(curve, horizons)}
        html = {}
        if text is not None and vocab is not None:
            html = {"text": text, "size": steps,
                    "values": base64.b64encode(quantized.tobytes()).decode("ascii"),
                    "targets": [vocab.chars[i] for i in targets.tolist()],
                    "predictions": [[[vocab.chars[i], round(float(p), 4)] for i, p in zip(row_i, row_p)]
                                    for row_i, row_p in zip(top_i.tolist(), top_p.tolist())],
                    "horizon_50": horizons[0].tolist(), "horizon_90": horizons[1].tolist()}
        return Report(self.name, summary=summary, arrays=arrays, figures=figures, html=html)


def connectivity_matrix(model, ids, *, target: str = "next", norm: str = "l2-squared", space: str = "onehot",
                        block: int = 32):
    """``(conn [T, T], logits [T, V])`` for the window ``ids[:-1]`` (T = len(ids) - 1):
    ``conn[t, t']`` is the magnitude of d logit_t[target_t] / d x_t', zero for t' > t."""
    import torch

    steps = len(ids) - 1
    if steps < 1:
        raise ZooError("connectivity needs at least two characters")
    device = next(model.parameters()).device
    ids = ids.to(device)
    was_training = model.training
    model.eval()
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:  # gradients w.r.t. the inputs only: no weight gradients to compute
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            base = model.embed(ids[None, :steps])  # [1, T, I]
            logits, _ = model.forward_embedded(base)
        logits = logits[0]
        wanted = ids[1:steps + 1] if target == "next" else logits.argmax(-1)
        conn = torch.zeros(steps, steps, dtype=torch.float64)
        for a in range(0, steps, block):
            b = min(a + block, steps)
            x = base[:, :b].expand(b - a, b, base.shape[-1]).clone().requires_grad_(True)
            with _differentiable_kernels(device):
                out, _ = model.forward_embedded(x)
            rows = torch.arange(b - a, device=device)
            picked = out[rows, a + rows, wanted[a:b]]
            (grad,) = torch.autograd.grad(picked.sum(), x)
            if space == "onehot" and getattr(model.config, "input", "onehot") == "embedding":
                grad = grad @ model.embedding.weight.T  # d/d one-hot = (d/d embedding) E^T
            conn[a:b, :b] = _magnitude(grad, norm).double().cpu()
    finally:
        model.train(was_training)
        for p in frozen:
            p.requires_grad_(True)
    return conn, logits.detach().cpu()


def _magnitude(grad, norm: str):
    if norm == "l2-squared":
        return (grad * grad).sum(-1)
    if norm == "l2":
        return grad.norm(dim=-1)
    return grad.abs().sum(-1)


def _differentiable_kernels(device):
    """cuDNN's RNN backward refuses eval mode; the native CUDA kernels do not. On CPU, nothing to do."""
    import contextlib

    import torch

    if device.type == "cuda":
        return torch.backends.cudnn.flags(enabled=False)
    return contextlib.nullcontext()


def _horizons(conn, fractions):
    """For each target t, the smallest distance d such that inputs t-d..t hold at least `fraction`
    of its connectivity mass (targets with no mass get 0)."""
    import numpy as np

    steps = conn.shape[0]
    t = np.arange(steps)
    # by_distance[t, d] = conn[t, t - d] (zero where t - d < 0)
    cols = t[:, None] - t[None, :]
    by_distance = np.where(cols >= 0, conn[t[:, None], np.clip(cols, 0, None)], 0.0)
    cumulative = np.cumsum(by_distance, axis=1)
    total = np.maximum(cumulative[:, -1:], 1e-300)
    return [np.argmax(cumulative / total >= f - 1e-12, axis=1) for f in fractions]


def _mass_by_distance(conn):
    """Mean over targets of the share of each target's connectivity at distance d (d = 0 is the
    current input), over the targets that have an input at that distance."""
    import numpy as np

    steps = conn.shape[0]
    t = np.arange(steps)
    cols = t[:, None] - t[None, :]
    share = conn / np.maximum(conn.sum(1, keepdims=True), 1e-300)
    by_distance = np.where(cols >= 0, share[t[:, None], np.clip(cols, 0, None)], np.nan)
    return np.nanmean(by_distance, axis=0)


def _heatmap(conn, text) -> bytes:
    import numpy as np

    from zoo.report import new_figure, png

    steps = conn.shape[0]
    fig = new_figure(7.5, 6.8)
    ax = fig.add_subplot()
    shown = np.where(np.tril(np.ones_like(conn, dtype=bool)), conn / max(conn.max(), 1e-30), np.nan)
    image = ax.imshow(shown, cmap="Greens", vmin=0, vmax=1, interpolation="nearest")
    ax.set(xlabel="input position t'", ylabel="target position t", title="connectivity (÷ window maximum)")
    if text is not None and steps <= 80:
        labels = ["↵" if c == "\n" else ("␣" if c == " " else c) for c in text]
        ax.set_xticks(range(steps), labels, fontsize=6, family="monospace")
        ax.set_yticks(range(steps), labels, fontsize=6, family="monospace")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return png(fig)


def _horizon_figure(curve, horizons) -> bytes:
    import numpy as np

    from zoo.report import new_figure, png

    fig = new_figure(10, 3.4)
    left, right = fig.subplots(1, 2)
    shown = min(len(curve), 100)
    left.plot(np.arange(shown), np.cumsum(curve[:shown]), color="C2")
    left.set(xlabel="distance back d (characters)", ylabel="mean share of mass within d", ylim=(0, 1.02),
             title="connectivity mass by distance")
    for fraction, h in zip((0.5, 0.9), horizons):
        right.hist(h, bins=np.arange(0, max(h.max(), 1) + 2) - 0.5, alpha=0.6, label=f"{int(fraction * 100)} % horizon")
    right.set(xlabel="distance back (characters)", ylabel="targets", title="horizons per target")
    right.legend()
    return png(fig)
