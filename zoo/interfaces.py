"""The contracts shared by models, baselines and analyzers.

`LanguageModel` is the one contract every model honours: full next-character distributions. A
recurrent model (`zoo.RecurrentLM`) and a baseline (`Baseline`: n-gram, n-NN) both satisfy it, so
any analyzer that needs only probabilities runs on either. An `Analyzer` declares what else it
needs in `requires`; `Analyzer.check` compares that with the model's `capabilities` and says in one
line why a model does not qualify, so no analyzer has to know any architecture by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from torch import Tensor

from .analysis import CAPABILITIES, AnalysisData, Analyzer, Param, Report  # noqa: F401  (re-exported)
from .recurrent import RecurrentLM, Trace  # noqa: F401  (re-exported: the interfaces live together)
from .vocab import Vocab


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
    characters' log-probabilities alone) and `chosen_log_probs(ids, chars)` (those of the given
    character ids at every position) where that is much cheaper; evaluation and the analyses
    then use them.

    `fit` receives, besides the training ids and vocabulary, the keyword options ``order`` (the
    paper's n), ``directory`` (where to write), ``valid_ids`` (for early stopping, if any),
    ``sections`` (dataset description etc. for config.json), ``progress``, and every one of its
    `params` (each a `Param`: what ``--set KEY=VALUE`` may change, checked and typed before
    `fit` runs, the others at their defaults).

    `order`, where a prediction reads a bounded context, is how many characters it reads (the
    paper's n): `zoo sample` then passes only those, and None means the whole text so far.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}
    vocab: Vocab
    order: int | None = None

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
