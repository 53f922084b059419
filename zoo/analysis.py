"""Analyses: the `Analyzer` contract, its parameters and inputs, and how one is run.

An analyzer plugin registers an `Analyzer` subclass; `analyze` finds it by name, checks that the
model offers the capabilities it `requires` (never an architecture's name), resolves its documented
parameters, and returns a `Report` that `zoo.report.write_report` turns into JSON, arrays, PNG
figures and one self-contained HTML page. Text features (one value per character: inside quotes,
bracket depth, ...) come from plugins too (`text_features`), and `stream_trace` runs a model's
trace over a long text in parallel streams so that analyzers can keep statistics online instead
of holding every internal of every character.

This module imports neither torch nor numpy at import time, so `zoo list` can show analyzers and
their parameters cheaply.
"""

from __future__ import annotations

import datetime
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ZooError
from .params import Param

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from .vocab import Vocab

CAPABILITIES = {
    "log_probs": "next-character distributions over the whole vocabulary (every LanguageModel)",
    "trace": "named internals per step, `model.trace(ids)` (recurrent models)",
    "gates": "sigmoid gates among the internals, listed in `model.gates`",
    "cells": "memory-cell states among the internals (LSTM `c`, Nested LSTM `nest.*.c`)",
    "gradients": "differentiable from input vectors, `model.forward_embedded(x)`",
    "intervene": "internals can be replaced while it reads, the change flowing on (`model.intervene`)",
    "words": "predicts words, not the next character (`model.words` names them; its task reads the text)",
}


@dataclass
class AnalysisData:
    """Everything an analyzer reads besides the model: the analysed text, and on request the
    training split and reference models.

    ids:        the analysed text as character ids ``[T]`` (the model's vocabulary).
    text:       the same text as a string (features, showing excerpts); None for bare ids given
                to a model without a vocabulary (analyzers that need text say so).
    vocab:      the vocabulary of `ids`, where the model has one.
    train_text: the model's training split, where the analyzer declared ``needs={"train"}`` or
                the caller had it (word counts, n-gram fits for the oracles).
    references: models to compare against, by label (``--reference``): any `LanguageModel`.
    source:     where the text came from (dataset name, split, sha256), for the report.
    progress:   whether to show progress bars.
    checkpoint: the directory the model was loaded from (a training run's directory when given
                one), for analyzers that follow a run through its checkpoints; None in code.
    label:      the analysed model's name in reports and figures (references go by their keys).
    """

    ids: Tensor
    text: str | None
    vocab: Vocab | None
    train_text: str | None = None
    references: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    progress: bool = False
    checkpoint: Path | None = None
    label: str = "model"


@dataclass
class Report:
    """What an analyzer returns; `zoo.report.write_report` turns it into files.

    summary:  JSON-able numbers a script reads (``--json`` prints it; report.json holds it).
    arrays:   the raw numbers behind the summary, by name (numpy arrays; saved in arrays.npz).
    figures:  PNG files by name, in display order (``{"saturation.png": b"..."}``).
    html:     JSON-able data for the analyzer's HTML template (`Analyzer.template`).
    meta:     what makes the report reproducible (model, checkpoint sha256, data, parameters,
              zoo version); `zoo.analyze` fills it in.
    """

    analyzer: str
    summary: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, bytes] = field(default_factory=dict)
    html: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


class Analyzer(ABC):
    """An analysis that applies to any model offering what it `requires`.

    name:      the registered name (``zoo analyze --analyzer NAME``) and `summary` its one line:
               given where the analyzer is registered, or here for a class used directly.
    requires:  capability names from `CAPABILITIES` (``{"trace", "gates"}`` for gate saturation,
               ``{"gradients"}`` for connectivity, ``{"log_probs"}`` for the oracle analysis).
               An analyzer never asks for an architecture by name.
    needs:     inputs beyond the analysed text: ``"train"`` (the training split) and/or
               ``"reference"`` (at least one reference model). See `AnalysisData`.
    params:    the documented parameters, by name; ``--set KEY=VALUE`` sets them.
    template:  a Jinja template file that extends ``report.html.j2`` (the shared page) and fills
               its ``content`` block from ``report.html``; None shows the summary and figures only.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset({"log_probs"})
    needs: ClassVar[frozenset[str]] = frozenset()
    params: ClassVar[dict[str, Param]] = {}
    template: ClassVar[str | Path | None] = None

    def check(self, model: Any) -> None:
        """Raise a one-line `ZooError` when `model` lacks a required capability."""
        offered = frozenset(getattr(model, "capabilities", ()))
        missing = sorted(self.requires - offered)
        if missing:
            what = "; ".join(f"{m}: {CAPABILITIES.get(m, 'unknown capability')}" for m in missing)
            raise ZooError(f"analyzer '{self.name}' cannot run on this model: it needs {what}")

    def check_inputs(self, model: Any, data: AnalysisData, params: dict[str, Any]) -> None:
        """Raise a one-line `ZooError` when `data` lacks what `needs` asks for. An analyzer whose
        needs depend on its (resolved) `params`, on the model or on what else it was given checks
        that here too, so that nothing runs when any selected analyzer would fail."""
        if len(data.ids) < 2:
            raise ZooError("the text to analyse needs at least two characters")
        if "train" in self.needs and not data.train_text:
            raise ZooError(f"analyzer '{self.name}' needs the model's training split: pass --data (or train_text=...)")
        compared = self.requires & {"log_probs", "words"}  # what the model predicts: a reference must predict it too
        for label, ref in data.references.items():
            lacking = sorted(compared - frozenset(getattr(ref, "capabilities", ())))
            if lacking:
                what = "; ".join(f"{m}: {CAPABILITIES[m]}" for m in lacking)
                raise ZooError(f"analyzer '{self.name}': reference '{label}' cannot be compared: it needs {what}")
        if "reference" in self.needs and not data.references:
            raise ZooError(f"analyzer '{self.name}' compares with a reference model: pass --reference")

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every parameter, `given` ones coerced and checked, the rest at their defaults."""
        from .params import resolve_params

        return resolve_params(self.params, given, f"analyzer '{self.name}'", self.name)

    @abstractmethod
    def run(self, model: Any, data: AnalysisData, **params: Any) -> Report:
        """Analyze `model` on `data`; `params` are every parameter, resolved (`resolve_params`)."""


def get_analyzer(name: str | Analyzer | type[Analyzer]) -> Analyzer:
    """An analyzer instance from its registered name (or an instance or class given directly)."""
    if isinstance(name, Analyzer):
        return name
    if isinstance(name, type) and issubclass(name, Analyzer):
        return name()
    from .plugins import plugins

    entry = plugins().get("analyzer", name)
    cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, Analyzer)):
        raise ZooError(f"analyzer '{name}' from plugin '{entry.plugin}' is not a zoo.Analyzer subclass")
    runner = cls()
    runner.name, runner.summary = entry.name, entry.summary or cls.summary  # declared once, where it is registered
    return runner


def analyze(model: Any, analyzer: str | Analyzer, data: Any, *, train_text: str | None = None,
            references: dict[str, Any] | None = None, progress: bool = False,
            meta: dict[str, Any] | None = None, **params: Any) -> Report:
    """Run one analyzer on `model` and return its `Report`.

    `data` is an `AnalysisData`, character ids ``[T]`` (in the model's vocabulary), or a string
    (encoded with ``model.vocab``). `params` are the analyzer's documented parameters
    (``zoo.get_analyzer(name).params``). `meta` adds to what the report records about its origin.

        >>> report = zoo.analyze(model, "saturation", ids, left=0.05)
        >>> report.summary["layers"]
    """
    import torch

    runner = get_analyzer(analyzer)
    runner.check(model)
    resolved = runner.resolve_params(params)
    if not isinstance(data, AnalysisData):
        vocab = getattr(model, "vocab", None)
        if isinstance(data, str):
            if vocab is None:
                raise ZooError("this model has no vocabulary: pass character ids instead of text")
            ids, text = torch.from_numpy(vocab.encode(data)), data
        else:
            ids = torch.as_tensor(data, dtype=torch.long).reshape(-1)
            size = model.config.vocab_size if hasattr(model, "config") else len(vocab) if vocab is not None else None
            if size is not None and len(ids) and not 0 <= int(ids.min()) <= int(ids.max()) < size:
                raise ZooError(f"character ids run from {int(ids.min())} to {int(ids.max())}; this model reads ids "
                               f"0 to {size - 1}")
            text = vocab.decode(ids.tolist()) if vocab is not None else None
        data = AnalysisData(ids=ids, text=text, vocab=vocab, train_text=train_text,
                            references=dict(references or {}), progress=progress)
    runner.check_inputs(model, data, resolved)
    report = runner.run(model, data, **resolved)
    from . import __version__

    report.meta = {
        "analyzer": runner.name,
        "about": runner.summary,
        "model": describe_model(model),
        "data": data_meta(model, data),
        "references": sorted(data.references),
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in resolved.items()},
        "zoo_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **(meta or {}),
    }
    return report


def select_analyzers(names: list[str], settings: list[tuple[str, str]]) -> tuple[list[Analyzer], dict[str, dict]]:
    """The analyzers `names` asks for ("all": every installed one) and every parameter of each,
    resolved from the ``--set`` values: KEY=VALUE goes to every selected analyzer with that
    parameter, ANALYZER.KEY=VALUE to that one; a key none of them has, or a bad value, is refused
    before anything runs."""
    from .plugins import plugins

    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ZooError("--analyzer needs at least one analyzer name (see `zoo list`)")
    runners = [get_analyzer(n) for n in dict.fromkeys(plugins().names("analyzer") if names == ["all"] else names)]
    given: dict[str, dict[str, Any]] = {r.name: {} for r in runners}
    for key, value in settings:
        item = f"{key}={value}"
        target, dot, short = key.rpartition(".")
        if dot and target not in given:
            raise ZooError(f"--set {item}: '{target}' is not among the selected analyzers ({', '.join(given)})")
        chosen = [r for r in runners if (r.name == target if dot else short in r.params)]
        if not chosen:
            known = "; ".join(f"{r.name}: {', '.join(r.params) or 'none'}" for r in runners)
            raise ZooError(f"--set {item}: no selected analyzer has a parameter '{short}' ({known})")
        for runner in chosen:
            given[runner.name][short] = value
    return runners, {runner.name: runner.resolve_params(given[runner.name]) for runner in runners}  # bad values: now


def applicable(runners: list[Analyzer], check, every: bool, skipped=None) -> list[Analyzer]:
    """`runners` that pass `check` (raising a ZooError where one does not qualify). With `every`
    ("all"), the others are left out, each said to `skipped(name, reason)`; else the first
    refusal is the error."""
    kept = []
    for runner in runners:
        try:
            check(runner)
            kept.append(runner)
        except ZooError as exc:
            if not every:
                raise
            if skipped is not None:
                skipped(runner.name, str(exc).removeprefix(f"analyzer '{runner.name}' "))
    if not kept:
        raise ZooError("no analyzer applies to this model and these inputs")
    return kept


def analysed_text(model: Any, saved: dict[str, Any], corpus: Any, part: str, text: str | None,
                  max_chars: int | None) -> tuple[str, dict[str, Any], str | None]:
    """(the text to analyse, where it comes from, the training split or None): the split `part`
    of `corpus`, or `text` as given, each as the model's task reads it (`zoo.Task.texts`)."""
    from .tasks import task_of

    task = task_of(model)
    parts = task.texts(model, corpus, saved) if corpus is not None else None
    if text is not None:
        text = task.read(text)
        source: dict[str, Any] = {"name": "text given with --text"}
    else:
        text = parts[part]
        source = {**{k: v for k, v in corpus.describe().items() if k in ("name", "sha256", "line_endings")},
                  "split": part}
    if max_chars:
        text = task.cut(text, max_chars)
        source["max_chars"] = max_chars
    if not text.strip():
        raise ZooError("there is no text to analyse")
    task.check_text(text)
    return text, source, parts["train"] if parts else None


def data_meta(model: Any, data: AnalysisData) -> dict[str, Any]:
    """What a report records about its text: where it came from, its `characters` (every one the
    analysis reads) and, for a model that predicts the next character, `predicted`: one prediction
    per character but the first, which has no context. `zoo eval` scores the predictions, so its
    count is `predicted` (61,173 on the sample's test split of 61,174 characters)."""
    found = {**data.source, "characters": len(data.ids)}
    if "log_probs" in getattr(model, "capabilities", ()):
        found["predicted"] = len(data.ids) - 1
    return found


def describe_model(model: Any) -> dict[str, Any]:
    """What a report says about a model built in code (the CLI adds its checkpoint and sha256)."""
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        info = {"arch": config.arch, "layers": config.layers, "hidden": config.hidden, "config": config.to_dict()}
        if hasattr(model, "num_parameters"):
            info["parameters"] = model.num_parameters()
        return info
    return {"class": type(model).__name__, "name": getattr(model, "name", "") or type(model).__name__}


# -- text features ------------------------------------------------------------------------------

def feature_names() -> list[str]:
    from .plugins import plugins

    return plugins().names("feature")


def text_features(text: str, names: list[str] | tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Registered features of `text`, each an array with one value per character.

    A feature is a function ``text -> array`` registered through ``zoo_register_features``. Its
    value at position t describes the text *after reading character t*, as the model's state at
    t does. A boolean array is an on/off feature (the cells analyzer scores detectors against
    it); a numeric one is graded (correlation only). A feature that fails is skipped with a
    warning unless it was asked for by name.
    """
    import numpy as np

    from .plugins import plugins

    asked = names is not None
    found: dict[str, np.ndarray] = {}
    for name in (names if asked else feature_names()):
        entry = plugins().get("feature", name)
        try:
            values = np.asarray(entry.load()(text))
            if values.shape != (len(text),):
                raise ValueError(f"returned shape {values.shape}, expected ({len(text)},)")
            if values.dtype != bool and not np.issubdtype(values.dtype, np.number):
                raise ValueError(f"returned {values.dtype} values, expected bool or numbers")
        except ZooError:
            raise
        except Exception as exc:
            line = f"feature '{name}' from plugin '{entry.plugin}' failed: {type(exc).__name__}: {exc}"
            if asked:
                raise ZooError(line) from exc
            warnings.warn(line + "; skipped", stacklevel=2)
            continue
        found[name] = values
    return found


# -- running a model over a long text -----------------------------------------------------------

@dataclass
class Chunk:
    """One slice of `stream_trace`: ``internals[name]`` is ``[streams, steps, hidden]``;
    ``index[b, s]`` is the position in the text of stream b's step s, and ``valid`` masks the
    padding at the end of the last stream."""

    index: Tensor
    valid: Tensor
    internals: dict[str, Tensor]
    logits: Tensor


STREAM_PARAMS = {
    "streams": Param(100, "parallel streams the text is cut into (as training batches are); each starts "
                          "from the zero state", check=lambda v: v >= 1),
    "chunk": Param(100, "steps traced at a time; memory is streams x chunk x hidden per internal",
                   check=lambda v: v >= 1),
}
"""The parameters of `stream_trace`, for analyzers that use it to declare as their own."""


def stream_layout(length: int, streams: int) -> tuple[int, int]:
    """``(streams, steps)``: the text is cut into `streams` contiguous parts of `steps` characters
    (the last one padded), as training batches cut it; fewer streams for a short text."""
    streams = max(1, min(streams, length))
    return streams, -(-length // streams)


def stream_trace(model: Any, ids: Tensor, names: Any, streams: int = 100, chunk: int = 100,
                 progress: bool = False, desc: str = "") -> Iterator[Chunk]:
    """Trace `ids` as `streams` parallel streams with the state carried between chunks.

    This is what makes an analysis of a whole test split fast and lean: the trace runs batched,
    and only one chunk of internals (``streams x chunk x hidden`` per name) exists at a time, so
    the caller accumulates statistics online. Each stream starts from the zero state, as each
    training stream does. `names` selects internals as `RecurrentLM.trace` does.
    """
    import torch
    from tqdm.auto import tqdm

    n = len(ids)
    rows, steps = stream_layout(n, streams)
    device = next(model.parameters()).device
    padded = torch.zeros(rows * steps, dtype=torch.long)
    padded[:n] = ids
    grid = padded.view(rows, steps).to(device)
    index = torch.arange(rows * steps).view(rows, steps)
    was_training = model.training
    model.eval()
    state = None
    try:
        with torch.no_grad(), tqdm(total=n, unit="char", unit_scale=True, desc=desc or "analysing",
                                   disable=not progress, leave=False) as bar:
            for start in range(0, steps, chunk):
                trace = model.trace(grid[:, start:start + chunk], state, names=names)
                state = trace.state
                where = index[:, start:start + chunk]
                valid = where < n
                yield Chunk(where, valid, dict(trace.internals), trace.logits)
                bar.update(int(valid.sum()))
    finally:
        model.train(was_training)


def paired_difference(groups: np.ndarray, a: np.ndarray, b: np.ndarray, minlength: int = 0, block: int = 1,
                      positions: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per group (non-negative ints, one per position): how many positions, the mean of ``a - b``
    there, and that mean's standard error (NaN below two runs). `a` and `b` are two models'
    scores of the same positions, so the error is a paired one: what the models share (hard
    characters, hard words) cancels, where the errors of the two means taken apart would not.

    `block` > 1 allows for neighbouring characters being alike: within each group the positions
    falling in the same run of `block` (by `positions`, default 0, 1, 2, ...: pass the text
    positions where the scores are a subset) count as one draw, and the error is that of a ratio
    of run sums (batch means; the delta method). With 1 every position is its own draw, the
    textbook error of a mean."""
    import numpy as np

    difference = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    if block > 1:  # one cell per (group, run): its sum and its count
        runs = (np.arange(len(difference)) if positions is None else np.asarray(positions, dtype=np.int64)) // block
        cells, cell = np.unique(groups * (int(runs.max(initial=0)) + 1) + runs, return_inverse=True)
        group = cells // (int(runs.max(initial=0)) + 1)
        sums, sizes = np.bincount(cell, weights=difference), np.bincount(cell).astype(np.float64)
    else:
        group, sums, sizes = groups, difference, np.ones(len(difference))
    count = np.bincount(group, weights=sizes, minlength=minlength).astype(np.int64)
    draws = np.bincount(group, minlength=minlength)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(group, weights=sums, minlength=minlength) / count
        spread = np.bincount(group, weights=(sums - mean[group] * sizes) ** 2, minlength=minlength)
        se = np.where(draws > 1, np.sqrt(spread * draws / np.maximum(draws - 1, 1)) / count, np.nan)
    return {"count": count, "mean": mean, "se": se}


BLOCK = Param(1, "characters per draw for the paired errors: 1 counts each character as independent (the paper's "
                 "convention); N counts runs of N neighbouring characters, which allows for a text's stretches being "
                 "alike (as zoo eval --block)", check=lambda v: v >= 1)


def or_none(value: float) -> float | None:
    """A float for a report's summary, None for NaN (`paired_difference`'s error of one position)."""
    return None if value != value else float(value)
