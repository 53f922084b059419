"""Connectivity (Madsen 2019, Distill, "Visualizing memorization in RNNs").

For each target position t and each earlier input position t' <= t, the magnitude of the gradient
of the target's logit at t (the logit of the character that actually comes next, or of the
predicted one) with respect to the input at t'. Defaults follow the article's code: the gradient
is taken with respect to the input vectors, mapped to one-hot space through the embedding matrix
(for a one-hot model it already is), and its squares are summed (a squared L2 norm; the article's
formula shows the norm itself); the figure divides by the maximum over the window.

For a model that predicts words (the autocomplete task), the target at t is the word character t
belongs to, and the window is one observation of the analysed text, as in the article's figure.

Computed batched, never one backward pass per target in a Python loop: for a recurrent model, one
forward pass and one backward sweep in which every target has its own cotangent row (`_sweep`);
for any other model that offers gradients, one batch row per target, as the article's code does
(`_rows`).

Beyond the article: the connectivity horizons, the distance back that holds 50 % and 90 % of a
target's connectivity mass, averaged over the targets, so that two models compare by one number
each, and the mass as a function of distance.
"""

from __future__ import annotations

import base64
from pathlib import Path

from zoo import Analyzer, Param, Report, ZooError, task_of

NORMS = ("l2-squared", "l2", "l1")
SWEEP_FROM = 256  # hidden units; measured: 2x128 x 200, rows 0.77 s, sweep 0.95 s; 3x512 x 200, rows 7.7 s, sweep 3.7 s


class Connectivity(Analyzer):
    requires = frozenset({"gradients"})
    params = {
        "target": Param("next", "whose logit: the character that comes next (for a word model: the word being "
                                "typed), or the model's argmax prediction",
                        choices=("next", "predicted")),
        "norm": Param("l2-squared", "magnitude of a gradient vector: l2-squared (the article's code), l2 "
                                    "(the article's formula) or l1", choices=NORMS),
        "space": Param("onehot", "differentiate w.r.t. one-hot inputs (embedding gradients mapped back "
                                 "through the embedding matrix, as the article) or the input vectors as they are",
                       choices=("onehot", "input")),
        "normalize": Param("max", "display scale: divide by the window's maximum (the article) or by each "
                                  "target's total", choices=("max", "target")),
        "start": Param(0, "first character of the window, in the analysed text", check=lambda v: v >= 0),
        "length": Param(200, "characters in the window (targets x inputs)", check=lambda v: 2 <= v <= 5000),
        "method": Param("auto", "sweep: one backward sweep over a recurrent model's step function (fastest for "
                                "wide models); rows: one batch row per target on the fast path (fastest for narrow "
                                "ones, and the only way for models without a step function); auto: sweep from "
                                f"{SWEEP_FROM} units up", choices=("auto", "sweep", "rows")),
        "block": Param(32, "for the rows method: target positions per forward and backward pass",
                       check=lambda v: v >= 1),
        "predictions": Param(5, "top predictions shown for each position", check=lambda v: 1 <= v <= 20),
        "heatmap": Param(200, "positions in the PNG heatmap (the window's first ones)", check=lambda v: v >= 2),
    }
    template = Path(__file__).parent / "templates" / "connectivity.html.j2"

    def check_inputs(self, model, data, params) -> None:
        super().check_inputs(model, data, params)
        from zoo import RecurrentLM

        if params["method"] == "sweep" and not isinstance(model, RecurrentLM):
            raise ZooError("connectivity: method=sweep needs a recurrent model's step function; use method=rows")
        if "words" in model.capabilities:
            if data.text is None:
                raise ZooError("connectivity of a word model reads text (observations of words), not bare ids")
            task_of(model).check_text(data.text)
        elif params["start"] >= len(data.ids) - 1:
            raise ZooError(f"connectivity: start={params['start']} leaves no target "
                           f"in a text of {len(data.ids)} characters")

    def run(self, model, data, *, target, norm, space, normalize, start, length, method, block, predictions,
            heatmap) -> Report:
        import numpy as np
        import torch

        if "words" in model.capabilities:  # the word each character belongs to (Madsen 2019's figure)
            window, targets, text, labels = task_of(model).window(model, data.text, start, length)
            conn, logits = connectivity_matrix(model, window, targets=targets, target=target, norm=norm, space=space,
                                               method=method, block=block)
        else:
            ids = data.ids[start:start + length + 1]  # one more than the window: the last target's next character
            window, targets = ids[:-1], ids[1:]
            text = data.text[start:start + len(window)] if data.text is not None else None
            labels = data.vocab.chars if data.vocab is not None else None
            conn, logits = connectivity_matrix(model, ids, target=target, norm=norm, space=space, method=method,
                                               block=block)
        conn = conn.numpy()
        steps = len(window)
        mass = conn.sum(1)
        reach = horizons(conn, (0.5, 0.9))
        curve = _mass_by_distance(conn)
        probs = torch.softmax(logits.float(), -1)
        top_p, top_i = probs.topk(min(predictions, probs.shape[-1]), dim=-1)
        shown = conn / np.maximum(mass[:, None], 1e-30) if normalize == "target" else conn
        # 8 bits of the display scale
        quantized = np.round(np.clip(shown / max(shown.max(), 1e-30), 0, 1) * 255).astype(np.uint8)
        summary = {
            "window": {"start": start, "characters": steps},
            "target": target, "predicts": "words" if "words" in model.capabilities else "characters",
            "norm": norm, "space": space, "normalize": normalize,
            "horizon_50": {"mean": float(reach[0].mean()), "median": float(np.median(reach[0]))},
            "horizon_90": {"mean": float(reach[1].mean()), "median": float(np.median(reach[1]))},
            "mass_by_distance": [float(v) for v in curve[:50]],
        }
        arrays = {"connectivity": conn, "horizon_50": reach[0], "horizon_90": reach[1],
                  "mass_by_distance": curve, "targets": targets.numpy(), "window_ids": window.numpy()}
        figures = {"connectivity.png": _heatmap(conn[:heatmap, :heatmap], text[:heatmap] if text else None),
                   "horizons.png": _horizon_figure(curve, reach)}
        html = {}
        if text is not None and labels is not None:
            html = {"text": text, "size": steps, "words": summary["predicts"] == "words",
                    "values": base64.b64encode(quantized.tobytes()).decode("ascii"),
                    "targets": [labels[i] for i in targets.tolist()],
                    "predictions": [[[labels[i], round(float(p), 4)] for i, p in zip(row_i, row_p)]
                                    for row_i, row_p in zip(top_i.tolist(), top_p.tolist())],
                    "horizon_50": reach[0].tolist(), "horizon_90": reach[1].tolist()}
        return Report(self.name, summary=summary, arrays=arrays, figures=figures, html=html)


def connectivity_matrix(model, ids, *, targets=None, target: str = "next", norm: str = "l2-squared",
                        space: str = "onehot", method: str = "auto", block: int = 32):
    """``(conn [T, T], logits [T, V])`` for the window ``ids[:-1]`` (T = len(ids) - 1), whose
    targets are the next characters; or, given `targets` ``[T]`` (a word model's), for the
    window `ids` itself. ``conn[t, t']`` is the magnitude of d logit_t[target_t] / d x_t', zero
    for t' > t; ``target="predicted"`` takes the model's argmax instead of the target.

    Two ways, the same numbers: one backward sweep over a `zoo.RecurrentLM`'s own step function
    (`_sweep`), or one batch row per target on any model that offers gradients (`_rows`)."""
    import torch

    from zoo import RecurrentLM

    steps = len(ids) - 1 if targets is None else len(ids)
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
        given = ids[1:steps + 1] if targets is None else targets.to(device)
        wanted = given if target == "next" else logits.argmax(-1)
        to_onehot = (model.embedding.weight.T
                     if space == "onehot" and getattr(model.config, "input", "onehot") == "embedding" else None)
        measure = lambda grad: _magnitude(grad if to_onehot is None else grad @ to_onehot, norm).double().cpu()  # noqa: E731
        stepwise = isinstance(model, RecurrentLM)
        if method == "sweep" and not stepwise:
            raise ZooError("connectivity: method=sweep needs a recurrent model's step function; use method=rows")
        with torch.enable_grad(), _differentiable_kernels(device):
            if stepwise and (method == "sweep" or (method == "auto" and model.config.hidden >= SWEEP_FROM)):
                conn = _sweep(model, base, wanted, measure)
            else:
                conn = _rows(model, base, wanted, measure, block)
    finally:
        model.train(was_training)
        for p in frozen:
            p.requires_grad_(True)
    return conn, logits.detach().cpu()


def _sweep(model, x, wanted, measure):
    """Every target's gradient in one backward sweep over the model's own step function.

    The forward pass runs once, at batch size 1, keeping each layer's vector-Jacobian product
    per step (`torch.func.vjp` of ``cell(project(x_t), state)``). The backward sweep then runs
    from the last step to the first with one cotangent row per target: row r joins at step r,
    from the head, and leaves nothing after it, so the rows in flight at step t are the targets
    >= t and the work is half a T x T square of batched products, with no repeated forward pass
    and no weight gradients. Uses only the `RecurrentLM` contract (`project`, `cell`, the linear
    `head`), so any architecture plugin gets it."""
    import torch
    from torch.func import vjp, vmap

    steps, layers = x.shape[1], model.config.layers
    state = model.init_state(1)
    pullbacks, inputs = [], x
    for layer in range(layers):
        def step(xt, *carried, layer=layer):
            new, _ = model.cell(layer, model.project(layer, xt[:, None])[:, 0], carried)
            return new

        carried, outputs, per_step = tuple(s[layer] for s in state), [], []
        for t in range(steps):
            carried, pullback = vjp(step, inputs[:, t], *carried)
            per_step.append(pullback)
            outputs.append(carried[0])
        pullbacks.append(per_step)
        inputs = torch.stack(outputs, 1)
    from_head = model.head.weight[wanted]  # d logit_t[y_t] / d h_t of the top layer, one row per target
    pending = [[torch.zeros(steps, model.config.hidden, device=x.device) for _ in model.state_names]
               for _ in range(layers)]  # per layer and state tensor: the cotangent row of each target
    conn = torch.zeros(steps, steps, dtype=torch.float64)
    for t in range(steps - 1, -1, -1):
        below = None
        for layer in range(layers - 1, -1, -1):
            rows = [p[t:] for p in pending[layer]]  # the targets >= t
            h = rows[0] + below if below is not None else rows[0].clone()
            if layer == layers - 1:
                h[0] += from_head[t]  # target t enters here
            grads = vmap(pullbacks[layer][t])((h[:, None], *(r[:, None] for r in rows[1:])))
            below = grads[0][:, 0]
            for k, g in enumerate(grads[1:]):
                pending[layer][k][t:] = g[:, 0]
        conn[t:, t] = measure(below)
    return conn


def _rows(model, x, wanted, measure, block):
    """One batch row per target, `block` targets per forward and backward pass of the model's
    fast path, each block running only as many steps as its last target needs."""
    import torch

    steps = x.shape[1]
    conn = torch.zeros(steps, steps, dtype=torch.float64)
    for a in range(0, steps, block):
        b = min(a + block, steps)
        rows = x[:, :b].expand(b - a, b, x.shape[-1]).clone().requires_grad_(True)
        out, _ = model.forward_embedded(rows)
        index = torch.arange(b - a, device=x.device)
        (grad,) = torch.autograd.grad(out[index, a + index, wanted[a:b]].sum(), rows)
        conn[a:b, :b] = measure(grad)
    return conn


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


def _by_distance(conn, fill: float):
    """``out[t, d] = conn[t, t - d]``: each target's row indexed by the distance back to its
    inputs, `fill` where t - d < 0."""
    import numpy as np

    t = np.arange(conn.shape[0])
    back = t[:, None] - t[None, :]
    return np.where(back >= 0, conn[t[:, None], np.clip(back, 0, None)], fill)


def horizons(conn, fractions):
    """For each target t, the smallest distance d such that inputs t-d..t hold at least `fraction`
    of its connectivity mass (targets with no mass get 0)."""
    import numpy as np

    cumulative = np.cumsum(_by_distance(conn, 0.0), axis=1)
    total = np.maximum(cumulative[:, -1:], 1e-300)
    return [np.argmax(cumulative / total >= f - 1e-12, axis=1) for f in fractions]


def shares_by_distance(conn):
    """``[T, T]``: the share of each target's connectivity mass at distance d (d = 0 is the
    current input), NaN where the target has no input that far back."""
    import numpy as np

    return _by_distance(conn / np.maximum(conn.sum(1, keepdims=True), 1e-300), np.nan)


def _mass_by_distance(conn):
    """Mean over targets of their share of connectivity at distance d, over the targets that
    have an input at that distance."""
    import numpy as np

    return np.nanmean(shares_by_distance(conn), axis=0)


def _heatmap(conn, text) -> bytes:
    import numpy as np

    from zoo import new_figure, png

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

    from zoo import new_figure, png

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
