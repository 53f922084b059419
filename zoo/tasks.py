"""Tasks: what a model learns to predict from a text, as plugins.

A `Task` turns a corpus into training examples (`Task.prepare` gives the trainer a `TaskData`),
scores a model on a split (`Task.score`), and says how a text reads to its models (`Task.texts`,
`Task.read`, `Task.window`). The trainer (`zoo.train`), `zoo eval` and `zoo analyze` call only
these, so a new task (next-word length, character classes, ...) is a plugin like any other::

    @zoo.hookimpl
    def zoo_register_tasks(register):
        register("vowel", "zoo_vowel:Vowel", summary="is the next character a vowel?")

`CharStreams` is the data shape of a model that predicts the next id of a long sequence of ids:
``batch_size`` contiguous streams cut into ``seq_length`` steps, the state carried from one step
to the next (char-rnn's truncated backpropagation through time). Tasks and baselines that learn
from such streams use it rather than writing their own.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import ZooError
from .params import Param
from .recipe import Recipe

DEFAULT = "next-char"  # the task of a model whose config names none (every model before tasks were plugins)


class TaskData(ABC):
    """A task's examples for one run, in the form the trainer (`zoo.trainer.fit`) drives.

    vocab:          the characters the model reads (`zoo.Vocab`).
    model_options:  what `zoo.create_model` needs besides the name and vocabulary (``task``,
                    ``classes``, ...).
    words:          the names of the output classes where the model predicts something other
                    than the next character (`zoo.vocab.WordVocab`), set as ``model.words``.
    dataset:        the "dataset" section of every checkpoint (how the examples were made).
    steps:          optimizer steps per epoch.
    characters:     characters read per epoch (for the log's characters per second).
    stateful:       whether the state carries from one batch to the next (truncated BPTT);
                    otherwise every batch starts from a zero state.
    distributed:    whether `batches` can share an epoch among torchrun's processes.
    name, summary:  for the run's header: "on <name>: <summary>, N steps per epoch".
    """

    vocab: Any
    model_options: dict[str, Any]
    words: Any = None
    dataset: dict[str, Any]
    steps: int
    characters: int
    stateful: bool = False
    distributed: bool = False
    name: str = ""
    summary: str = ""

    @abstractmethod
    def batches(self, epoch: int, rank: int = 0, world: int = 1) -> Iterator[tuple[Any, Any]]:
        """``(inputs, targets)`` tensors for each step of 1-based `epoch` (this process's share)."""

    @abstractmethod
    def loss(self, logits, targets):
        """The scalar training loss of one batch."""

    @abstractmethod
    def validate(self, model) -> dict[str, float]:
        """Validation figures after an epoch: ``valid_nats`` (what early stopping watches) and
        any others the history should keep (``valid_accuracy``, ...)."""

    def describe(self, figures: dict[str, float]) -> str:
        """The validation figures in the epoch's log line."""
        return f"{figures['valid_nats']:.4f} nats"


class CharStreams(TaskData):
    """The next-id examples of one long sequence: ``batch_size`` contiguous streams of
    `train_ids`, ``seq_length`` steps at a time, the state carried between steps (char-rnn's data
    order, the same every epoch). Validation is the exact one-pass cross-entropy of `valid_ids`
    (`zoo.evaluate.char_losses` with one stream), unless `validate` is given."""

    stateful = True
    distributed = True

    def __init__(self, train_ids, vocab, batch_size: int, seq_length: int, valid_ids=None,
                 dataset: dict[str, Any] | None = None, name: str = "",
                 validate: Callable[[Any], dict[str, float]] | None = None):
        from .data import bptt_batches

        self.vocab, self.valid_ids, self._validate = vocab, valid_ids, validate
        self.model_options, self.dataset, self.name = {}, dict(dataset or {}), name
        self.batch_size = batch_size
        self.x, self.y = bptt_batches(train_ids, batch_size, seq_length)
        self.steps = self.x.shape[0]
        self.characters = self.x.numel()
        self.summary = f"{len(train_ids):,} training characters"

    def batches(self, epoch: int, rank: int = 0, world: int = 1):
        if self.batch_size % world:
            raise ZooError(f"batch size {self.batch_size} does not divide among {world} processes")
        share = self.batch_size // world
        columns = slice(rank * share, (rank + 1) * share)
        for w in range(self.steps):
            yield self.x[w, columns], self.y[w, columns]

    def loss(self, logits, targets):
        import torch.nn.functional as F

        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def validate(self, model) -> dict[str, float]:
        if self._validate is not None:
            return self._validate(model)
        from .evaluate import char_losses

        return {"valid_nats": float(char_losses(model, self.valid_ids, streams=1).mean())}

    def describe(self, figures: dict[str, float]) -> str:
        nats = figures["valid_nats"]
        return f"{nats:.4f} nats/char ({nats / math.log(2):.4f} bits)"


@dataclass
class Scores:
    """A model's scores on a split, one per scored position, for `zoo eval`'s figures and its
    paired comparisons: `loss` in nats, `rank` of the target among the model's predictions (1: its
    first choice; 0: not among them) where the task ranks, `figures` the task adds to the mean
    loss (accuracy, how many characters were unknown, ...), and `metrics` those of them that
    `zoo eval` records in the checkpoint's config (as ``<split>_<name>``)."""

    loss: Any
    figures: dict[str, Any] = field(default_factory=dict)
    rank: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)  # figures to record in the checkpoint besides the loss


class Task(ABC):
    """What a model predicts from a text, and how it learns and is scored.

    name, summary:  as `zoo list` shows them: given where the task is registered.
    unit:           what the loss is averaged over, as eval and the log print it.
    split:          the train,valid,test fractions the task uses when the user gives none and it
                    has its own (None: the dataset's).
    params:         the task's options, given to `zoo train` with ``--set KEY=VALUE``.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    unit: ClassVar[str] = "nats/char"
    split: ClassVar[str | None] = None
    params: ClassVar[dict[str, Param]] = {}

    def recipe(self) -> Recipe:
        """The recipe a new run starts from: Karpathy et al. 2015's unless the task has its own."""
        return Recipe()

    @abstractmethod
    def prepare(self, corpus, recipe: Recipe, options: dict[str, Any], model=None, spec=None) -> TaskData:
        """The training examples of `corpus` (a `zoo.data.Corpus`). `options`: the task's params,
        resolved; `model`: the run's model when it is resumed (its vocabulary and words stay);
        `spec`: for a new model, the registry entry it is made from (`zoo.ModelSpec`)."""

    @abstractmethod
    def score(self, model, corpus, part: str, saved: dict[str, Any], streams: int, progress: bool) -> Scores:
        """`model`'s scores on split `part` ("train", "valid", "test") of `corpus`, the split the
        model with config `saved` was trained with."""

    def check_config(self, config) -> None:
        """Refuse a `zoo.ModelConfig` whose head cannot serve this task (one line)."""
        return None  # every one serves, by default

    def check_reference(self, model, other) -> None:
        """Refuse a reference model that does not score the same positions as `model`."""
        return None  # every one serves, by default

    def headline(self, result: dict[str, Any], corpus_name: str) -> str:
        """`zoo eval`'s line for `result` (the figures of `score` with their bootstrap error)."""
        pm = "" if result.get("se_nats") is None else f" ± {result['se_nats']:.4f}"
        return f"{result['split']} cross-entropy on {corpus_name}: {result['nats']:.4f}{pm} {self.unit}"

    def card(self, config: dict[str, Any]) -> dict[str, Any]:
        """What a Hub model card (`zoo.hub.model_card`) says of a model of this task, from its
        checkpoint's `config`: ``what`` (the opening phrase: "A character-level LSTM language
        model, 3x512"), ``training`` (the recipe in a sentence), ``hub_task`` (the Hub's task
        ``type`` and ``name``), ``tag``, ``figure`` (the name of its loss: "cross-entropy"),
        ``commands`` (lines the card's Use section adds; ``{repo}`` stands for the model's
        hf: name) and ``analyzers`` (those the Use section shows)."""
        model, recipe = config.get("model") or {}, config.get("recipe") or {}
        return {"what": f"A {model.get('arch', '?').upper()} model for the task {self.name} "
                        f"({self.summary or 'a plugin'}), {model.get('layers', '?')}x{model.get('hidden', '?')}",
                "training": f"{recipe.get('optimizer', '?')} at {recipe.get('lr', '?')}, "
                            f"batches of {recipe.get('batch_size', '?')}, {recipe.get('max_epochs', '?')} epochs",
                "hub_task": {"type": "other", "name": self.name}, "tag": self.name, "figure": "cross-entropy",
                "commands": [], "analyzers": ["saturation"]}

    def texts(self, model, corpus, saved: dict[str, Any]) -> dict[str, str]:
        """The train, valid and test splits as the model reads them, for the analyses."""
        return dict(zip(("train", "valid", "test"), corpus.splits()))

    def read(self, text: str) -> str:
        """A text the user gives (``zoo analyze --text``) as the model reads it."""
        return text

    def cut(self, text: str, most: int) -> str:
        """The first characters of `text`, at most `most`, where an analysis is limited."""
        return text[:most]

    def encode(self, model, text: str):
        """The ids a model reads for `text` (a text from `texts` or `read`)."""
        import torch

        return torch.from_numpy(model.vocab.encode(text))

    def window(self, model, text: str, start: int, length: int):
        """The stretch of `text` around position `start` that the model reads as one sequence, at
        most `length` characters: ``(ids, targets, its text, the labels of the targets' classes)``,
        for the analyses that follow each prediction back to its inputs (connectivity)."""
        ids = self.encode(model, text)[start:start + length + 1]
        return ids[:-1], ids[1:], text[start:start + length], list(model.vocab.chars)

    def check_text(self, text: str) -> None:
        """Refuse a text in which the task finds nothing to predict."""
        return None  # every one serves, by default


def get_task(name: str) -> Task:
    """The task registered as `name`, ready to use (one line if none is)."""
    from .plugins import plugins

    entry = plugins().get("task", name)
    target = entry.load()
    task = target() if isinstance(target, type) else target
    if not isinstance(task, Task):
        raise ZooError(f"task '{name}' from plugin '{entry.plugin}' is not a zoo.Task")
    task.name, task.summary = entry.name, entry.summary or task.summary  # declared once, where it is registered
    return task


def task_of(model) -> Task:
    """The task a model was made for."""
    return get_task(getattr(getattr(model, "config", None), "task", None) or DEFAULT)
