"""Training an architecture that has no fused kernel: its step function compiled by `torch.compile`.

Without a cuDNN kernel (the Nested LSTM; the GRU with its reset gate before the product) a layer
runs as a Python loop of small operations per step. On a GPU that loop's cost is launching a
dozen tiny kernels per step, not the arithmetic; compiled, each step's elementwise work fuses.
Such an architecture writes its layer as a pure function over a chunk of steps,

    sequence(xp [B, T, ...], state (tensors [B, H]), *params) -> (outputs [B, T, H], state)

wraps it once in `CompiledSequence`, and while training (`RecurrentLM.compiles`) runs its layers
through `CompiledSequence.run`; the step loop stays its reference path and, on the CPU, its fast
one. Compiling takes a minute, so only training takes this path.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor


class CompiledSequence:
    """`function` compiled on first use, once per `torch.compile` mode. Where compiling fails (no
    compiler for this platform, say): one warning, and the plain function from then on, which is
    slower, never wrong."""

    def __init__(self, function: Callable[..., tuple[Tensor, tuple[Tensor, ...]]]):
        self.function = function
        self.functions: dict[str | None, Callable] = {}

    def __call__(self, mode: str | None, *args):
        function = self.functions.get(mode)
        if function is None:
            try:
                function = torch.compile(self.function, fullgraph=True, dynamic=False, mode=mode)
            except RuntimeError as exc:  # e.g. a Python version this torch cannot compile for
                function = self._give_up(mode, exc)
            self.functions[mode] = function
        try:
            return function(*args)
        except torch._dynamo.exc.TorchDynamoException as exc:
            return self._give_up(mode, exc)(*args)

    def run(self, xp: Tensor, state: tuple[Tensor, ...], *params, chunk: int,
            mode: str | None = None) -> tuple[Tensor, tuple[Tensor, ...]]:
        """`function` over all of ``xp``, `chunk` steps per compiled call; a shorter last chunk
        runs uncompiled, so sequence lengths never cause a recompile."""
        # A state that needs no gradient (the usual start) is made a leaf that takes one, so that
        # the first chunk compiles to the same graph as the others instead of to a second one.
        state = tuple(s if s.requires_grad else s.detach().requires_grad_() for s in state)
        pieces = []
        for piece in xp.split(chunk, dim=1):
            if piece.shape[1] == chunk:
                out, state = self(mode, piece, state, *params)
            else:
                out, state = self.function(piece, state, *params)
            pieces.append(out)
        return torch.cat(pieces, 1), tuple(state)

    def _give_up(self, mode: str | None, exc: Exception) -> Callable:
        cause = getattr(exc, "inner_exception", None) or exc.__cause__ or exc
        reason = f"{type(cause).__name__}: {str(cause).strip().partition(chr(10))[0]}"
        # stacklevel=1: the failure is torch's, not the caller's code
        warnings.warn(f"{self.function.__name__}: torch.compile failed ({reason}); training goes on uncompiled",
                      stacklevel=1)
        self.functions[mode] = self.function
        return self.function
