"""Nested LSTM: an LSTM whose cell update is itself an LSTM, nested `depth` levels deep.

Level 0 is the outer cell; for a level k with input ``x_k`` and recurrent input ``u_k``
(level 0: ``x_0 = x_t``, ``u_0 = h_{t-1}``)::

    i, f, o = sigmoid(W_k [x_k; u_k] + b),   g = act_k(W_k [x_k; u_k] + b)
    innermost level:  c_k = f * c_k(t-1) + i * g
    other levels:     c_k = h_{k+1},  where level k+1 reads  x_{k+1} = i * g,  u_{k+1} = f * c_k(t-1)
    h_k = o * tanh(c_k)

and the layer's output is ``h = h_0``. ``act_k`` is tanh, except for level 0 where the Distill
appendix uses the identity (``outer_candidate="identity"``, the default; ``"tanh"`` gives the
hannw/nlstm variant). Gate blocks are in torch's order i, f, g, o. The state per layer is
``(h, c_0, ..., c_{depth-1})``. With one bias per gate block, 1 layer of 600 units at depth 2
over 600-wide inputs has 5,764,800 recurrent parameters, the Distill appendix's figure.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from zoo import Option, RecurrentLM, State


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
                level.weight_ih = nn.Parameter(torch.empty(rows, self.layer_input_size(layer) if k == 0 else cfg.hidden))
                level.weight_hh = nn.Parameter(torch.empty(rows, cfg.hidden))
                level.bias_ih = nn.Parameter(torch.empty(rows))
                if cfg.bias == "double":
                    level.bias_hh = nn.Parameter(torch.empty(rows))
                levels.append(level)
            self.layers.append(levels)

    def project(self, layer: int, x: Tensor) -> Tensor:
        outer = self.layers[layer][0]
        return torch.addmm(outer.bias_ih, x.flatten(0, 1), outer.weight_ih.t()).unflatten(0, x.shape[:2])

    @staticmethod
    def _pre(level: nn.Module, u: Tensor, base: Tensor) -> Tensor:
        pre = torch.addmm(base, u, level.weight_hh.t())
        return pre + level.bias_hh if hasattr(level, "bias_hh") else pre

    def cell(self, layer: int, xp: Tensor, state: State) -> tuple[State, dict[str, Tensor]]:
        levels = self.layers[layer]
        cells_prev = state[1:]
        internals: dict[str, Tensor] = {}
        gates = []
        u = state[0]
        for k in range(self.depth):
            level = levels[k]
            if k == 0:
                pre = self._pre(level, u, xp)
            else:
                pre = self._pre(level, u, torch.addmm(level.bias_ih, x_k, level.weight_ih.t()))
            i, f, g, o = pre.chunk(4, dim=-1)
            i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
            if k > 0 or self.config.options["outer_candidate"] == "tanh":
                g = torch.tanh(g)
            gates.append((i, f, g, o))
            x_k, u = i * g, f * cells_prev[k]
        # The innermost level is a plain LSTM cell: c = f * c_prev + i * g (the last u and x_k).
        # Going outwards, each level's memory is the output of the level inside it.
        cells: list[Tensor] = [None] * self.depth  # type: ignore[list-item]
        c = u + x_k
        for k in reversed(range(self.depth)):
            i, f, g, o = gates[k]
            if k < self.depth - 1:
                c = h_inner
            h_inner = o * torch.tanh(c)
            cells[k] = c
            internals.update({f"nest.{k}.i": i, f"nest.{k}.f": f, f"nest.{k}.g": g, f"nest.{k}.o": o,
                              f"nest.{k}.c": c, f"nest.{k}.h": h_inner})
        internals["h"] = h_inner
        return (h_inner, *cells), internals
