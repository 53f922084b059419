"""Nested LSTM: an LSTM whose cell update is itself an LSTM, nested `depth` levels deep.

Level 0 is the outer cell; for a level k with input ``x_k`` and recurrent input ``u_k``
(level 0: ``x_0 = x_t``, ``u_0 = h_{t-1}``)::

    i, f, o = sigmoid(W_k [x_k; u_k] + b_k),   g = act_k(W_k [x_k; u_k] + b_k)
    innermost level:  c_k = f * c_k(t-1) + i * g
    other levels:     c_k = h_{k+1},  where level k+1 reads  x_{k+1} = i * g,  u_{k+1} = f * c_k(t-1)
    h_k = o * tanh(c_k)

and the layer's output is ``h = h_0``. ``act_k`` is tanh, except for level 0 where the Distill
appendix uses the identity (``outer_candidate="identity"``, the default; ``"tanh"`` gives the
hannw/nlstm variant). The state per layer is ``(h, c_0, ..., c_{depth-1})``.

Parameters: level 0 keeps ``weight_ih [4H, I]`` and ``weight_hh [4H, H]`` (its input projection
is done for the whole sequence at once); deeper levels keep one ``weight [4H, 2H]`` over
``[x_k; u_k]``, one product per step. Gate blocks are in char-rnn's order i, f, o, g (no fused
kernel constrains it, and the three sigmoid gates then take one call). With one bias per gate
block, 1 layer of 600 units at depth 2 over 600-wide inputs has 5,764,800 recurrent
parameters, the Distill appendix's figure.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from zoo import Option, RecurrentLM, State


class _SequenceWeightGrad(torch.autograd.Function):
    """Zeros added to a level's pre-activations that carry its recurrent weight's gradient.

    The step loop multiplies by a detached weight, so autograd's per-step backward computes only
    the gradient of the step's input (one small product per step instead of two). This node, an
    ancestor of every step, is reached last; by then its incoming gradient is d loss / d
    pre-activation for all steps, and the weight's gradient is one large product over the whole
    sequence, ``sum_t dpre_t^T u_t``, with the inputs ``u_t`` the loop collected.
    """

    @staticmethod
    def forward(ctx, weight: Tensor, inputs: list[Tensor], shape: torch.Size) -> Tensor:
        ctx.inputs = inputs
        return weight.new_zeros(()).expand(shape)

    @staticmethod
    def backward(ctx, grad: Tensor):
        inputs = torch.stack(ctx.inputs, 1)  # [B, T, K], like grad [B, T, 4H]
        ctx.inputs = None
        return grad.flatten(0, 1).t() @ inputs.flatten(0, 1), None, None


class NestedLSTM(RecurrentLM):
    arch = "nlstm"
    options = {
        "depth": Option(2, None, "an integer >= 2: memory levels per unit", lambda d: isinstance(d, int) and d >= 2),
        "outer_candidate": Option("identity", ("identity", "tanh"), "activation of level 0's candidate"),
    }

    @property
    def depth(self) -> int:
        return self.config.options["depth"]

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("h",) + tuple(f"c{k}" for k in range(self.depth))

    @property
    def internal_names(self):
        return ("h",) + tuple(f"nest.{k}.{n}" for k in range(self.depth) for n in ("i", "f", "g", "o", "c", "h"))

    @property
    def gate_names(self):
        return tuple(f"nest.{k}.{n}" for k in range(self.depth) for n in ("i", "f", "o"))

    def build_layers(self) -> None:
        cfg = self.config
        rows = 4 * cfg.hidden
        self.layers = nn.ModuleList()
        for layer in range(cfg.layers):
            levels = nn.ModuleList()
            for k in range(self.depth):
                level = nn.Module()
                if k == 0:
                    level.weight_ih = nn.Parameter(torch.empty(rows, self.layer_input_size(layer)))
                    level.weight_hh = nn.Parameter(torch.empty(rows, cfg.hidden))
                else:
                    level.weight = nn.Parameter(torch.empty(rows, 2 * cfg.hidden))
                level.bias_ih = nn.Parameter(torch.empty(rows))
                if cfg.bias == "double":
                    level.bias_hh = nn.Parameter(torch.empty(rows))
                levels.append(level)
            self.layers.append(levels)

    def forget_biases(self):
        H = self.config.hidden  # gate blocks i, f, o, g at every level
        return [level.bias_ih[H:2 * H] for levels in self.layers for level in levels]

    def project(self, layer: int, x: Tensor) -> Tensor:
        levels = self.layers[layer]
        outer = levels[0]
        xp = torch.addmm(outer.bias_ih, x.flatten(0, 1), self.transposed(outer.weight_ih)).unflatten(0, x.shape[:2])
        biases = [l.bias_ih + l.bias_hh if hasattr(l, "bias_hh") else l.bias_ih for l in levels]
        if hasattr(outer, "bias_hh"):
            xp = xp + outer.bias_hh
        # Per-sequence set-up the step loop reads (see _SequenceWeightGrad): `cell` runs right
        # after `project` for the same layer, so this is always the current layer's.
        recurrent = [outer.weight_hh] + [l.weight for l in levels[1:]]
        if torch.is_grad_enabled() and any(w.requires_grad for w in recurrent):
            inputs: list[list[Tensor]] = [[] for _ in levels]
            shape = torch.Size((*x.shape[:2], 4 * self.config.hidden))
            probes = [_SequenceWeightGrad.apply(w, box, shape) for w, box in zip(recurrent, inputs)]
            xp = xp + probes[0]
            bases = [iter((b + p).unbind(1)) for b, p in zip(biases[1:], probes[1:])]
            self._steps = [w.detach().t() for w in recurrent], inputs, [None, *bases]
        else:
            self._steps = [self.transposed(w) for w in recurrent], None, [None, *map(itertools.repeat, biases[1:])]
        return xp

    def cell(self, layer: int, xp: Tensor, state: State) -> tuple[State, dict[str, Tensor]]:
        H = self.config.hidden
        weights, inputs, bases = self._steps
        gates = []
        x_k, u = xp, state[0]  # level 0 reads the projected input and h_{t-1}
        for k in range(self.depth):
            step_input = u if k == 0 else torch.cat([x_k, u], dim=1)
            if inputs is not None:
                inputs[k].append(step_input.detach())
            base = xp if k == 0 else next(bases[k])
            pre = torch.addmm(base, step_input, weights[k])
            sig = torch.sigmoid(pre[:, : 3 * H])
            i, f, o = sig[:, :H], sig[:, H : 2 * H], sig[:, 2 * H :]
            g = pre[:, 3 * H :]
            if k > 0 or self.config.options["outer_candidate"] == "tanh":
                g = torch.tanh(g)
            gates.append((i, f, g, o))
            x_k, u = i * g, f * state[1 + k]
        # The innermost level is a plain LSTM cell: c = f * c_prev + i * g (the last u and x_k).
        # Going outwards, each level's output is the memory of the level around it.
        internals: dict[str, Tensor] = {}
        cells: list[Tensor] = [None] * self.depth  # type: ignore[list-item]
        c = u + x_k
        for k in reversed(range(self.depth)):
            i, f, g, o = gates[k]
            h_k = o * torch.tanh(c)
            cells[k] = c
            internals.update({f"nest.{k}.i": i, f"nest.{k}.f": f, f"nest.{k}.g": g, f"nest.{k}.o": o,
                              f"nest.{k}.c": c, f"nest.{k}.h": h_k})
            c = h_k
        internals["h"] = h_k
        return (h_k, *cells), internals
