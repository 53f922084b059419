"""RNN, LSTM and GRU on torch's fused kernels, with a step loop and a fast trace over the same weights.

Each layer keeps torch's layout: ``weight_ih [G*H, I]``, ``weight_hh [G*H, H]``, ``bias_ih [G*H]``
and, with ``bias="double"``, ``bias_hh [G*H]``, gate blocks in torch's order (LSTM i, f, g, o; GRU
r, z, n). With the default ``bias="single"`` the fused kernels receive a zero recurrent bias.

The fast path hands all layers to one fused call (`torch.lstm`, `torch.gru`, `torch.rnn_tanh`:
the kernels behind `nn.LSTM`/`nn.GRU`/`nn.RNN`, oneDNN on CPU, cuDNN on GPU). A single time step
goes through the step loop instead, which is several times faster than a fused call per step.
`trace` runs the fused kernel one layer at a time for ``h`` and recomputes every gate of the
layer in one matrix product, which is about twice as fast as the step loop; only the LSTM cell
state needs a (cheap, elementwise) pass over time.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from zoo import CompiledSequence, Param, RecurrentLM, State


class _Fused(RecurrentLM):
    blocks: int = 1  # gate blocks per layer: RNN 1, LSTM 4, GRU 3
    cudnn_mode: str = "RNN_TANH"

    def build_layers(self) -> None:
        cfg = self.config
        rows = self.blocks * cfg.hidden
        self.layers = nn.ModuleList()
        for layer in range(cfg.layers):
            module = nn.Module()
            module.weight_ih = nn.Parameter(torch.empty(rows, self.layer_input_size(layer)))
            module.weight_hh = nn.Parameter(torch.empty(rows, cfg.hidden))
            module.bias_ih = nn.Parameter(torch.empty(rows))
            if cfg.bias == "double":
                module.bias_hh = nn.Parameter(torch.empty(rows))
            else:  # the fused kernels take a recurrent bias: give them zeros (one per layer, for cuDNN's flat buffer)
                module.register_buffer("zero_bias", torch.zeros(rows), persistent=False)
            self.layers.append(module)

    def _weights(self, layer: int) -> list[Tensor]:
        m = self.layers[layer]
        return [m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh if hasattr(m, "bias_hh") else m.zero_bias]

    def _apply(self, fn, recurse=True):
        result = super()._apply(fn, recurse)
        self.flatten_weights()
        return result

    def flatten_weights(self) -> None:
        """On CUDA, lay all layers' weights out in one buffer as cuDNN wants them (what
        nn.LSTM.flatten_parameters does), so the fused kernel does not copy them on every call.
        The parameters keep their names and become views into that buffer. Elsewhere a no-op."""
        weights = self._flat(range(self.config.layers))
        if not (weights and all(w.is_cuda and w.dtype == weights[0].dtype for w in weights)):
            return
        if not torch.backends.cudnn.is_acceptable(weights[0]) or len({w.data_ptr() for w in weights}) != len(weights):
            return
        from torch.backends.cudnn import rnn as cudnn_rnn

        with torch.cuda.device_of(weights[0]), torch.no_grad():
            if torch._use_cudnn_rnn_flatten_weight():
                torch._cudnn_rnn_flatten_weight(weights, 4, self.config.input_size,
                                                cudnn_rnn.get_cudnn_mode(self.cudnn_mode),
                                                self.config.hidden, 0, self.config.layers, True, False)

    def _flat(self, layers: range) -> list[Tensor]:
        return [w for layer in layers for w in self._weights(layer)]

    def project(self, layer: int, x: Tensor) -> Tensor:
        m = self.layers[layer]
        return torch.addmm(m.bias_ih, x.flatten(0, 1), self.transposed(m.weight_ih)).unflatten(0, x.shape[:2])

    def _recurrent(self, layer: int, h: Tensor) -> Tensor:
        """``h @ W_hh^T + b_hh`` for ``h`` of any leading shape."""
        m = self.layers[layer]
        out = h @ self.transposed(m.weight_hh)
        return out + m.bias_hh if hasattr(m, "bias_hh") else out

    def _fused(self, x: Tensor, state: State, layers: range) -> tuple[Tensor, State]:
        raise NotImplementedError

    def run(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        if x.shape[1] == 1 and not x.is_cuda:
            return self.run_loop(x, state)
        return self._fused(x, state, range(self.config.layers))

    def _shifted(self, h: Tensor, h0: Tensor) -> Tensor:
        """The previous step's output for every step: ``[h0, h_0, ..., h_{T-2}]``."""
        return torch.cat([h0.unsqueeze(1), h[:, :-1]], dim=1)

    @staticmethod
    def _record(layer: int, internals: dict[str, Tensor], record, recorded: dict[str, Tensor]) -> None:
        for name, value in internals.items():
            if record(f"layers.{layer}.{name}"):
                recorded[f"layers.{layer}.{name}"] = value

    def _layer_fused(self, layer: int, x: Tensor, state: State) -> tuple[Tensor, State]:
        h, new = self._fused(x, tuple(s.unsqueeze(0) for s in state), range(layer, layer + 1))
        return h, tuple(s.squeeze(0) for s in new)


class RNN(_Fused):
    """Vanilla RNN: ``h_t = tanh(W_ih x_t + W_hh h_{t-1} + b)``."""

    arch = "rnn"
    blocks = 1

    def _fused(self, x, state, layers):
        out, h = torch.rnn_tanh(x, state[0], self._flat(layers), True, len(layers),
                                self.config.dropout, self.training, False, True)
        return out, (h,)

    def cell(self, layer, xp, state, edit=None):
        h = torch.tanh(xp + self._recurrent(layer, state[0]))
        if edit is not None:
            h = edit("h", h)
        return (h,), {"h": h}

    def trace_layer(self, layer, x, state, record, recorded):
        h, new_state = self._layer_fused(layer, x, state)  # h is the only internal
        self._record(layer, {"h": h}, record, recorded)
        return h, new_state


class LSTM(_Fused):
    """LSTM (the paper's equations): ``c_t = f*c_{t-1} + i*g``, ``h_t = o*tanh(c_t)``."""

    arch = "lstm"
    blocks = 4
    cudnn_mode = "LSTM"
    state_names = ("h", "c")

    @property
    def internal_names(self):
        return ("i", "f", "g", "o", "c", "h")

    @property
    def gate_names(self):
        return ("i", "f", "o")

    def forget_biases(self):
        H = self.config.hidden  # gate blocks i, f, g, o
        return [m.bias_ih[H:2 * H] for m in self.layers]

    def _fused(self, x, state, layers):
        out, h, c = torch.lstm(x, list(state), self._flat(layers), True, len(layers),
                               self.config.dropout, self.training, False, True)
        return out, (h, c)

    @staticmethod
    def _gates(pre: Tensor) -> dict[str, Tensor]:
        i, f, g, o = pre.chunk(4, dim=-1)
        return {"i": torch.sigmoid(i), "f": torch.sigmoid(f), "g": torch.tanh(g), "o": torch.sigmoid(o)}

    def cell(self, layer, xp, state, edit=None):
        h, c = state
        gates = self._gates(xp + self._recurrent(layer, h))
        if edit is not None:  # each internal replaced before anything reads it (`zoo.RecurrentLM.intervene`)
            gates = {name: edit(name, value) for name, value in gates.items()}
        c = torch.addcmul(gates["f"] * c, gates["i"], gates["g"])
        if edit is not None:
            c = edit("c", c)
        h = gates["o"] * torch.tanh(c)
        if edit is not None:
            h = edit("h", h)
        return (h, c), {**gates, "c": c, "h": h}

    def trace_layer(self, layer, x, state, record, recorded):
        h, new_state = self._layer_fused(layer, x, state)
        gates = self._gates(self.project(layer, x) + self._recurrent(layer, self._shifted(h, state[0])))
        cells = linear_scan(gates["f"], gates["i"] * gates["g"], state[1])
        self._record(layer, {**gates, "c": cells, "h": h}, record, recorded)
        return h, new_state


class GRU(_Fused):
    """GRU with torch's (cuDNN's) gate layout r, z, n.

    Candidate: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` (``reset="after"``, torch and
    cuDNN) or ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)`` (``reset="before"``, Cho et al.
    2014 and the paper's slides; no fused kernel exists for it, so it runs the step loop, and
    trains on a GPU through a compiled step function, `zoo.compiled`).
    Update: ``update="paper"`` reports ``z`` as the paper writes it,
    ``h = (1 - z) * h_prev + z * n``; ``update="torch"`` reports torch's ``z``,
    ``h = z * h_prev + (1 - z) * n``. The weights are the same either way (torch's layout, whose
    z-block computes torch's z); the option fixes which gate analyses see as ``z``.
    """

    arch = "gru"
    blocks = 3
    cudnn_mode = "GRU"
    options = {
        "update": Param("paper", "which orientation of the update gate is called z", ("paper", "torch")),
        "reset": Param("after", "where the reset gate multiplies the candidate's recurrent term", ("after", "before")),
    }

    @property
    def internal_names(self):
        return ("r", "z", "n", "h")

    @property
    def gate_names(self):
        return ("r", "z")

    def _fused(self, x, state, layers):
        out, h = torch.gru(x, state[0], self._flat(layers), True, len(layers),
                           self.config.dropout, self.training, False, True)
        return out, (h,)

    def run(self, x, state):
        if self.config.options["reset"] == "after":
            return super().run(x, state)
        if self.compiles(x):  # GPU training: each layer's `reset_before_sequence`, compiled
            return self._stack(self._compiled_layer, x, state, None, None)
        return self.run_loop(x, state)

    def _compiled_layer(self, layer, x, state, record, recorded):
        m = self.layers[layer]
        return compiled_reset_before.run(self.project(layer, x), state, m.weight_hh.t(), self._weights(layer)[3],
                                         chunk=self.compile_chunk, mode=self.compile_mode)

    def _gates(self, layer: int, xp: Tensor, h_prev: Tensor, edit=None) -> dict[str, Tensor]:
        """r, z (as the `update` option names it), n and torch's z; `edit` (an intervention)
        replaces r before n reads it, and z and n before the step mixes them."""
        paper = self.config.options["update"] == "paper"
        if self.config.options["reset"] == "after":
            x_r, x_z, x_n = xp.split(self.config.hidden, dim=-1)
            h_r, h_z, h_n = self._recurrent(layer, h_prev).split(self.config.hidden, dim=-1)
            r = torch.sigmoid(x_r + h_r)
            if edit is not None:
                r = edit("r", r)
            n = torch.tanh(x_n + r * h_n)
            z_torch = torch.sigmoid(x_z + h_z)
        else:
            w_hh = self.transposed(self.layers[layer].weight_hh)
            r, z_torch, n = reset_before_gates(xp, h_prev, w_hh, self._weights(layer)[3], edit)
        z = 1 - z_torch if paper else z_torch
        if edit is not None:
            edited, n = edit("z", z), edit("n", n)
            if edited is not z:  # torch's z follows the one replaced
                z, z_torch = edited, 1 - edited if paper else edited
        return {"r": r, "z": z, "n": n, "z_torch": z_torch}

    def cell(self, layer, xp, state, edit=None):
        h_prev = state[0]
        gates = self._gates(layer, xp, h_prev, edit)
        h = torch.lerp(gates["n"], h_prev, gates.pop("z_torch"))  # (1 - z_torch) n + z_torch h_prev
        if edit is not None:
            h = edit("h", h)
        return (h,), {**gates, "h": h}

    def trace_layer(self, layer, x, state, record, recorded):
        if self.config.options["reset"] == "before":
            return self.loop_layer(layer, x, state, record, recorded)
        h, new_state = self._layer_fused(layer, x, state)
        gates = self._gates(layer, self.project(layer, x), self._shifted(h, state[0]))
        gates.pop("z_torch")
        self._record(layer, {**gates, "h": h}, record, recorded)
        return h, new_state


def reset_before_gates(xp: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, edit=None) -> tuple[Tensor, Tensor, Tensor]:
    """One step's ``r``, torch's ``z`` and ``n`` of the GRU with ``reset="before"``, from the
    projected input ``xp [B, 3H]``, ``h [B, H]`` and the recurrent weight transposed, ``[H, 3H]``;
    `edit` (an intervention) replaces ``r`` before ``n`` reads it."""
    H = h.shape[1]
    x_r, x_z, x_n = xp.split(H, dim=-1)
    h_r, h_z = torch.addmm(b_hh[: 2 * H], h, w_hh[:, : 2 * H]).split(H, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    if edit is not None:
        r = edit("r", r)
    n = torch.tanh(x_n + torch.addmm(b_hh[2 * H:], r * h, w_hh[:, 2 * H:]))
    return r, torch.sigmoid(x_z + h_z), n


def reset_before_sequence(xp: Tensor, state: State, w_hh: Tensor, b_hh: Tensor) -> tuple[Tensor, State]:
    """`reset_before_gates` over ``xp [B, T, 3H]`` from ``state = (h,)``: outputs ``[B, T, H]`` and
    the last state. Written for `torch.compile` (`zoo.compiled`)."""
    (h,) = state
    outputs = []
    for xp_t in xp.unbind(1):
        _, z_torch, n = reset_before_gates(xp_t, h, w_hh, b_hh)
        h = torch.lerp(n, h, z_torch)
        outputs.append(h)
    return torch.stack(outputs, 1), (h,)


compiled_reset_before = CompiledSequence(reset_before_sequence)


def linear_scan(a: Tensor, b: Tensor, c0: Tensor) -> Tensor:
    """All ``c_t = a_t * c_{t-1} + b_t`` for ``a, b [B, T, H]`` and ``c0 [B, H]``.

    Time is cut into blocks; inside a block a log-depth (Hillis-Steele) scan composes the affine
    steps, and one Python step per block carries ``c`` across. Blocks hold about 64k elements, so
    for one long sequence (batch 1) a block spans hundreds of steps, and for a wide batch the
    block is one step: the plain loop, which is then fastest. Only products and sums of the
    gates: no division, nothing to overflow.
    """
    B, T, H = a.shape
    block = 1 << max(0, min(8, (65_536 // max(1, B * H)).bit_length() - 1))
    out, c = [], c0
    for start in range(0, T, block):
        A, S = a[:, start : start + block], b[:, start : start + block]
        d = 1
        while d < A.shape[1]:  # after this, c_t = A_t * c_start + S_t within the block
            S = torch.cat([S[:, :d], torch.addcmul(S[:, d:], A[:, d:], S[:, :-d])], 1)
            A = torch.cat([A[:, :d], A[:, d:] * A[:, :-d]], 1)
            d *= 2
        cells = torch.addcmul(S, A, c.unsqueeze(1))
        out.append(cells)
        c = cells[:, -1]
    return torch.cat(out, 1)
