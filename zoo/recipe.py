"""`Recipe`: how a model is trained, as plain data (no torch, so the CLI can offer it cheaply)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ZooError


@dataclass(frozen=True)
class Recipe:
    """The optimization setup. Defaults are Karpathy et al. 2015's (char-rnn's); a task may start
    from its own (`zoo.Task.recipe`).

    optimizer:      "rmsprop" (the paper's) or "adam".
    lr:             learning rate, 2e-3.
    rmsprop_alpha:  RMSProp's moving-average decay (char-rnn's decay_rate 0.95).
    batch_size, seq_length: 100 parallel streams, unrolled 100 steps.
    lr_decay, lr_decay_after: after epoch 10, multiply the rate by 0.95 each epoch.
    init_scale:     parameters start uniform in [-0.08, 0.08].
    forget_bias:    added to the starting bias of every forget gate (`RecurrentLM.forget_biases`):
                    0 for the paper; 1 reproduces TensorFlow's LSTM cells, which add 1 to the forget
                    gate's pre-activation (the Distill models' convention; with a trainable bias the
                    two give the same training).
    clip, clip_value: "value" clips every gradient element to [-5, 5] (char-rnn); "norm" clips
                    the global L2 norm to clip_value; "none".
    dropout:        between layers and before the head (0: none).
    max_epochs:     50. patience: stop after this many epochs without a better validation loss
                    (0: never stop early). seed: for initialization and dropout.
    """

    optimizer: str = "rmsprop"
    lr: float = 2e-3
    rmsprop_alpha: float = 0.95
    batch_size: int = 100
    seq_length: int = 100
    lr_decay: float = 0.95
    lr_decay_after: int = 10
    init_scale: float = 0.08
    forget_bias: float = 0.0
    clip: str = "value"
    clip_value: float = 5.0
    dropout: float = 0.0
    max_epochs: int = 50
    patience: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in ("rmsprop", "adam"):
            raise ZooError(f"optimizer must be rmsprop or adam, got {self.optimizer!r}")
        if self.clip not in ("value", "norm", "none"):
            raise ZooError(f"clip must be value, norm or none, got {self.clip!r}")
        for name in ("batch_size", "seq_length", "max_epochs"):
            if getattr(self, name) < 1:
                raise ZooError(f"{name} must be at least 1")
        finite = {"lr": (0, None), "lr_decay": (0, 1), "init_scale": (0, None), "clip_value": (0, None),
                  "rmsprop_alpha": (0, 1), "forget_bias": (None, None)}
        for name, (low, high) in finite.items():  # --lr nan would train to "best validation nan"
            value = getattr(self, name)
            if not math.isfinite(value) or (low is not None and value <= low) or (high is not None and value > high):
                bounds = f"in ({low}, {high}]" if high is not None else "above 0" if low is not None else "finite"
                raise ZooError(f"{name} must be a number {bounds}, got {value}")
        if not 0 <= self.dropout < 1:
            raise ZooError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.seed <= 2**63 - 1:
            raise ZooError(f"seed must be between 0 and {2**63 - 1}, got {self.seed}")

    def lr_at(self, epoch: int) -> float:
        """The rate for 1-based `epoch`: decayed once per epoch after `lr_decay_after`."""
        return self.lr * self.lr_decay ** max(0, epoch - self.lr_decay_after)

    # Fields that may change between a run and its resumption without changing what it computes.
    RESUMABLE_CHANGES = ("max_epochs", "patience")
