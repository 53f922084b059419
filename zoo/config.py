"""`ModelConfig`: everything needed to rebuild a recurrent model, as plain data.

It holds no tensors and imports no torch, so the CLI can read, print and validate configs quickly.
Architecture-specific conventions (GRU's update-gate orientation, the Nested LSTM's depth, ...) live
in `options`; `zoo.create_model` fills in every default, so a saved config always states the
convention it was trained with.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import ZooError

INPUT_KINDS = ("onehot", "embedding")
BIAS_KINDS = ("single", "double")


# The largest sizes a config may ask for, checked before anything is built: far beyond the models
# of the papers (hidden 600, 3 layers, 16,386 word classes), small enough that a hostile config.json
# cannot make `zoo info` allocate gigabytes or build a million layers.
LIMITS = {"vocab_size": 1 << 20, "layers": 64, "hidden": 1 << 15, "embed_dim": 1 << 15, "classes": 1 << 20}


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters and conventions of a recurrent character model.

    arch:       registered architecture name ("lstm", "gru", "rnn", "nlstm", or a plugin's).
    vocab_size: number of characters (input and output classes).
    layers:     stacked recurrent layers.
    hidden:     units per layer.
    input:      "onehot" feeds 1-of-K vectors as the paper does; "embedding" learns `embed_dim`-wide
                vectors as the Distill models do.
    embed_dim:  width of the learned embedding (defaults to `hidden`); ignored for one-hot input.
    dropout:    dropout on the input of every layer above the first and on the top layer's output
                (char-rnn's placement); 0 disables it.
    bias:       "single": one bias vector per gate block (the paper's equations and parameter
                counts); "double": separate input and recurrent biases, as torch.nn.LSTM/GRU/RNN
                and cuDNN keep them. For GRU the choice changes the model (the recurrent bias of the
                candidate sits inside the reset gate's product); for RNN and LSTM it only
                re-parametrizes it.
    options:    architecture-specific conventions; see each architecture's `options` table.
    task:       the registered task the model was made for (`zoo.Task`): "next-char", the next
                character (the paper's language models), unless a task plugin says otherwise.
    classes:    output classes where the head predicts something other than the next character
                (a task's words); None: the `vocab_size` characters.
    """

    arch: str
    vocab_size: int
    layers: int = 1
    hidden: int = 128
    input: str = "onehot"
    embed_dim: int | None = None
    dropout: float = 0.0
    bias: str = "single"
    options: dict[str, Any] = field(default_factory=dict)
    task: str = "next-char"
    classes: int | None = None

    def __post_init__(self) -> None:
        def bad(msg: str) -> ZooError:
            return ZooError(f"invalid model config: {msg}")

        for name, most in LIMITS.items():  # sizes beyond these are a damaged or hostile file, not a model
            value = getattr(self, name)
            if value is None and name in ("embed_dim", "classes"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
                raise bad(f"{name} must be an integer from 1 to {most:,}, got {value!r}")
        if self.input not in INPUT_KINDS:
            raise bad(f"input must be one of {', '.join(INPUT_KINDS)}, got {self.input!r}")
        if not isinstance(self.dropout, (int, float)) or isinstance(self.dropout, bool) or not 0 <= self.dropout < 1:
            raise bad(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if self.bias not in BIAS_KINDS:
            raise bad(f"bias must be one of {', '.join(BIAS_KINDS)}, got {self.bias!r}")
        if not isinstance(self.task, str) or not self.task:
            raise bad(f"task must be a task's name, got {self.task!r}")

    @property
    def input_size(self) -> int:
        """Width of the vectors the first recurrent layer reads."""
        if self.input == "onehot":
            return self.vocab_size
        return self.embed_dim or self.hidden

    @property
    def output_size(self) -> int:
        """Classes the head scores: `classes`, else the characters."""
        return self.classes or self.vocab_size

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ZooError(f"invalid model config: unknown field(s) {', '.join(unknown)}")
        if "arch" not in data or "vocab_size" not in data:
            raise ZooError("invalid model config: 'arch' and 'vocab_size' are required")
        return cls(**{**data, "options": dict(data.get("options") or {})})
