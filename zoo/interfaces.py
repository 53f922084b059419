"""The contracts shared by models, baselines and analyzers.

`LanguageModel` is the one contract every model honours: full next-character distributions. A
recurrent model (`zoo.RecurrentLM`) and a baseline (`Baseline`: n-gram, n-NN) both satisfy it, so
any analyzer that needs only probabilities runs on either. An `Analyzer` declares what else it
needs in `requires`; `Analyzer.check` compares that with the model's `capabilities` and says in one
line why a model does not qualify, so no analyzer has to know any architecture by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from torch import Tensor

from .errors import ZooError
from .recurrent import RecurrentLM, Trace  # noqa: F401  (re-exported: the interfaces live together)
from .vocab import Vocab

CAPABILITIES = {
    "log_probs": "next-character distributions over the whole vocabulary (every LanguageModel)",
    "trace": "named internals per step, `model.trace(ids)` (recurrent models)",
    "gates": "sigmoid gates among the internals, listed in `model.gates`",
    "cells": "memory-cell states among the internals (LSTM `c`, Nested LSTM `nest.*.c`)",
    "gradients": "differentiable from input vectors, `model.forward_embedded(x)`",
}


@runtime_checkable
class LanguageModel(Protocol):
    """Anything that gives next-character log-probabilities.

    ``log_probs(ids)`` takes character ids of shape ``[T]`` (or ``[B, T]``) and returns
    ``[T, V]`` (or ``[B, T, V]``) where row ``t`` is log p(next character | ids[:t+1]) over the
    **whole** vocabulary, not only the character that came next: analyzers compare distributions.
    """

    vocab: Vocab | None

    def log_probs(self, ids: Tensor) -> Tensor: ...

    @property
    def capabilities(self) -> frozenset[str]: ...


class Baseline(ABC):
    """A non-recurrent language model fitted to a text (the paper's n-gram and n-NN).

    Subclasses set `name`, fit with `fit`, and persist to a directory (`save` / `load`) whose
    config.json has the checkpoint format and a ``"baseline": {"name": ...}`` section, so
    `zoo.load_checkpoint` and `zoo eval` find the plugin that reads it. They answer `log_probs`
    exactly as a recurrent model does, and may add `target_log_probs(ids)` (the next
    characters' log-probabilities alone) where that is much cheaper; evaluation then uses it.

    `fit` receives, besides the training ids and vocabulary, the keyword options ``order`` (the
    paper's n), ``directory`` (where to write), ``valid_ids`` (for early stopping, if any),
    ``sections`` (dataset description etc. for config.json), ``progress``, and whatever
    ``--set KEY=VALUE`` options the user gave.
    """

    name: ClassVar[str] = ""
    vocab: Vocab

    @classmethod
    @abstractmethod
    def fit(cls, train_ids: Tensor, vocab: Vocab, **options: Any) -> Baseline:
        """Estimate the model from training ids (validation data may come in `options`)."""

    @abstractmethod
    def log_probs(self, ids: Tensor) -> Tensor:
        """See `LanguageModel.log_probs`."""

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the model to `directory`, atomically."""

    @classmethod
    @abstractmethod
    def load(cls, directory: str | Path) -> Baseline:
        """Read a model that `save` wrote."""

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({"log_probs"})


@dataclass
class Report:
    """What an analyzer returns: a JSON-able summary, named arrays, and figures.

    `summary` is what ``--json`` prints; `arrays` hold the raw numbers behind it (saved as
    ``.npy``/safetensors by the caller); `figures` maps a file name (``"saturation.png"``) to its
    bytes, which the HTML report embeds.
    """

    analyzer: str
    model: str
    summary: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)


class Analyzer(ABC):
    """An analysis that applies to any model offering what it `requires`.

    requires: capability names from `CAPABILITIES` (``{"trace", "gates"}`` for gate saturation,
    ``{"gradients"}`` for connectivity, ``{"log_probs"}`` for the oracle error analysis).
    """

    name: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset({"log_probs"})

    def check(self, model: Any) -> None:
        """Raise a one-line `ZooError` when `model` lacks a required capability."""
        offered = frozenset(getattr(model, "capabilities", ()))
        missing = sorted(self.requires - offered)
        if missing:
            what = "; ".join(f"{m}: {CAPABILITIES.get(m, 'unknown capability')}" for m in missing)
            raise ZooError(f"analyzer '{self.name}' cannot run on this model: it needs {what}")

    @abstractmethod
    def run(self, model: Any, ids: Tensor, **options: Any) -> Report:
        """Analyze `model` on character ids; `options` are the analyzer's documented parameters."""
