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
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from zoo import CompiledSequence, Param, RecurrentLM, State


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
        "depth": Param(2, "an integer from 2 to 16: memory levels per unit", check=lambda d: 2 <= d <= 16),
        "outer_candidate": Param("identity", "activation of level 0's candidate", ("identity", "tanh")),
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

    def _recurrent(self, layer: int) -> tuple[list[Tensor], list[Tensor]]:
        """The layer's recurrent weights ``[4H, K]`` and its biases (both summed, if double),
        level by level; level 0's bias goes into the input projection."""
        levels = self.layers[layer]
        weights = [levels[0].weight_hh] + [level.weight for level in levels[1:]]
        return weights, [level.bias_ih + level.bias_hh if hasattr(level, "bias_hh") else level.bias_ih
                         for level in levels]

    def _input_projection(self, layer: int, x: Tensor, bias: Tensor) -> Tensor:
        """Level 0's input product for a whole sequence ``[B, T, I]``, its bias added."""
        weight = self.transposed(self.layers[layer][0].weight_ih)
        return torch.addmm(bias, x.flatten(0, 1), weight).unflatten(0, x.shape[:2])

    def project(self, layer: int, x: Tensor) -> Tensor:
        recurrent, biases = self._recurrent(layer)
        xp = self._input_projection(layer, x, biases[0])
        # Per-sequence set-up the step loop reads (see _SequenceWeightGrad): `cell` runs right
        # after `project` for the same layer, so this is always the current layer's.
        if torch.is_grad_enabled() and any(w.requires_grad for w in recurrent):
            inputs: list[list[Tensor]] = [[] for _ in recurrent]
            shape = torch.Size((*x.shape[:2], 4 * self.config.hidden))
            probes = [_SequenceWeightGrad.apply(w, box, shape) for w, box in zip(recurrent, inputs)]
            xp = xp + probes[0]
            bases = [iter((b + p).unbind(1)) for b, p in zip(biases[1:], probes[1:])]
            self._steps = [w.detach().t() for w in recurrent], inputs, [None, *bases]
        else:
            self._steps = [self.transposed(w) for w in recurrent], None, [None, *map(itertools.repeat, biases[1:])]
        return xp

    def cell(self, layer: int, xp: Tensor, state: State, edit=None) -> tuple[State, dict[str, Tensor]]:
        weights, inputs, bases = self._steps
        step_bases = [xp] + [next(b) for b in bases[1:]]
        cells, outputs, gates = nested_step(state[0], state[1:], weights, step_bases, self._outer_tanh, inputs, edit)
        if edit is not None:  # the layer's output is level 0's
            outputs[0] = edit("h", outputs[0])
        internals = {f"nest.{k}.{n}": v for k, level in enumerate(gates) for n, v in zip("ifgo", level)}
        internals.update({f"nest.{k}.{n}": v
                          for k in range(self.depth) for n, v in (("c", cells[k]), ("h", outputs[k]))})
        internals["h"] = outputs[0]
        return (outputs[0], *cells), internals

    @property
    def _outer_tanh(self) -> bool:
        return self.config.options["outer_candidate"] == "tanh"

    def run(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        if self.compiles(x):  # GPU training: each layer's `nested_sequence`, compiled
            return self._stack(self._compiled_layer, x, state, None, None)
        return self.run_loop(x, state)

    def _compiled_layer(self, layer: int, x: Tensor, state: State, record, recorded) -> tuple[Tensor, State]:
        weights, biases = self._recurrent(layer)
        xp = self._input_projection(layer, x, biases[0])
        return compiled_nested.run(xp, state, [w.t() for w in weights], biases, self._outer_tanh,
                                   chunk=self.compile_chunk, mode=self.compile_mode)


def nested_step(h: Tensor, memories: Sequence[Tensor], weights: Sequence[Tensor], bases: Sequence[Tensor],
                outer_tanh: bool, inputs: list[list[Tensor]] | None = None, edit=None):
    """One step of one layer, the module docstring's equations: level 0 reads ``h`` through
    ``weights[0]`` onto ``bases[0]`` (its projected input), level k > 0 reads ``[x_k; u_k]``
    through ``weights[k]`` (``[K, 4H]``, transposed) onto ``bases[k]``. `inputs`, if given,
    collects each level's step input (for `_SequenceWeightGrad`). `edit` (an intervention,
    `zoo.RecurrentLM.intervene`) replaces each gate, memory and level output as it is computed,
    by its internal name (``nest.{k}.{i,f,g,o,c,h}``).

    Returns the new memories ``c_k``, the level outputs ``h_k`` (``h_0`` is the layer's) and
    each level's gates ``(i, f, g, o)``."""
    H = h.shape[1]
    gates = []
    x_k, u = None, h
    for k, weight in enumerate(weights):
        step_input = u if k == 0 else torch.cat([x_k, u], dim=1)
        if inputs is not None:
            inputs[k].append(step_input.detach())
        pre = torch.addmm(bases[k], step_input, weight)
        sig = torch.sigmoid(pre[:, : 3 * H])
        i, f, o = sig[:, :H], sig[:, H : 2 * H], sig[:, 2 * H :]
        g = pre[:, 3 * H :]
        if k > 0 or outer_tanh:
            g = torch.tanh(g)
        if edit is not None:
            i, f, g, o = (edit(f"nest.{k}.{n}", v) for n, v in zip("ifgo", (i, f, g, o)))
        gates.append((i, f, g, o))
        x_k, u = i * g, f * memories[k]
    # The innermost level is a plain LSTM cell: c = f * c_prev + i * g (the last u and x_k).
    # Going outwards, each level's output is the memory of the level around it.
    depth = len(weights)
    cells: list[Tensor] = [None] * depth  # type: ignore[list-item]
    outputs: list[Tensor] = [None] * depth  # type: ignore[list-item]
    c = u + x_k
    for k in reversed(range(depth)):
        cells[k] = c = c if edit is None else edit(f"nest.{k}.c", c)
        c = outputs[k] = gates[k][3] * torch.tanh(c)
        if edit is not None:
            c = outputs[k] = edit(f"nest.{k}.h", c)
    return cells, outputs, gates


def nested_sequence(xp: Tensor, state: State, weights: list[Tensor], biases: list[Tensor],
                    outer_tanh: bool) -> tuple[Tensor, State]:
    """`nested_step` over ``xp [B, T, 4H]`` (level 0's projected input, bias included) from
    ``state = (h, c_0, ...)``: the layer's outputs ``[B, T, H]`` and the last state. Written for
    `torch.compile` (`zoo.compiled`)."""
    h, *memories = state
    outputs = []
    for xp_t in xp.unbind(1):
        memories, levels, _ = nested_step(h, memories, weights, [xp_t, *biases[1:]], outer_tanh)
        h = levels[0]
        outputs.append(h)
    return torch.stack(outputs, 1), (h, *memories)


compiled_nested = CompiledSequence(nested_sequence)
