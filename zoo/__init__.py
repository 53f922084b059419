"""RNN Zoo: character-level recurrent language models, their baselines, and the analyses that explain them.

Importing `zoo` is cheap: torch and numpy load only when a model, vocabulary or checkpoint is
first used (the CLI's ``zoo list`` never loads them).

    >>> import zoo
    >>> model = zoo.load("lstm-3x512.warpeace")    # a released model (or a run, hf:org/name@commit)
    >>> model = zoo.create_model("lstm-2x128", vocab_size=87)
    >>> logits, state = model(ids)                # fused fast path
    >>> trace = model.trace(ids)                  # every internal, e.g. trace["layers.1.f"]

This module is also the one a plugin imports from: architectures (`RecurrentLM`), baselines
(`Baseline`), analyzers (`Analyzer`, `Param`, `Report`), tasks (`Task`, `TaskData`), and the
helpers they share. docs/plugins.md shows each.
"""

from importlib import import_module
from typing import Any

from .config import ModelConfig
from .errors import ZooError
from .hookspecs import hookimpl

__version__ = "0.1.0"

# The public names: what users call, and the only module plugins (the built-in ones included)
# import from. Everything under zoo.* other than what is listed here is internal and may change.
_LAZY = {
    # models and their contracts
    "RecurrentLM": "recurrent",
    "Trace": "recurrent",
    "State": "recurrent",
    "LanguageModel": "interfaces",
    "Baseline": "interfaces",
    "CompiledSequence": "compiled",
    "Vocab": "vocab",
    "WordVocab": "vocab",
    "Param": "params",
    "Option": "params",
    # the registry, loading and saving
    "create_model": "registry",
    "resolve": "registry",
    "list_models": "registry",
    "list_architectures": "registry",
    "ModelSpec": "registry",
    "registered": "plugins",
    "load": "loading",
    "locate": "loading",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "read_config": "checkpoint",
    "update_config": "checkpoint",
    "checkpoint_header": "checkpoint",
    "checkpoints": "runs",
    "is_run": "runs",
    # data, tasks and training
    "load_corpus": "data",
    "build_vocab": "data",
    "encoded_splits": "data",
    "bptt_batches": "data",
    "Task": "tasks",
    "TaskData": "tasks",
    "CharStreams": "tasks",
    "Scores": "tasks",
    "get_task": "tasks",
    "task_of": "tasks",
    "Recipe": "recipe",
    "train": "trainer",
    "fit": "trainer",
    "Callback": "trainer",
    "make_optimizer": "trainer",
    # scoring
    "char_losses": "evaluate",
    "next_probabilities": "evaluate",
    "bootstrap_se": "evaluate",
    "evaluate_split": "evaluate",
    # analysis and reports
    "Analyzer": "analysis",
    "Report": "analysis",
    "AnalysisData": "analysis",
    "analyze": "analysis",
    "get_analyzer": "analysis",
    "text_features": "analysis",
    "stream_trace": "analysis",
    "stream_layout": "analysis",
    "paired_difference": "analysis",
    "or_none": "analysis",
    "BLOCK": "analysis",
    "STREAM_PARAMS": "analysis",
    "new_figure": "report",
    "png": "report",
    "PAGE_WIDTH": "report",
    # files
    "atomic_write": "fileio",
    "make_folder": "fileio",
    "sha256_bytes": "fileio",
    "zoo_home": "fileio",
}

__all__ = ["ModelConfig", "ZooError", "hookimpl", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
