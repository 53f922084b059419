"""RNN Zoo: character-level recurrent language models, their baselines, and the analyses that explain them.

Importing `zoo` is cheap: torch and numpy load only when a model, vocabulary or checkpoint is
first used (the CLI's ``zoo list`` never loads them).

    >>> import zoo
    >>> model = zoo.load("lstm-3x512.warpeace")    # a released model (or a run, hf:org/name@commit)
    >>> model = zoo.create_model("lstm-2x128", vocab_size=87)
    >>> logits, state = model(ids)                # fused fast path
    >>> trace = model.trace(ids)                  # every internal, e.g. trace["layers.1.f"]
"""

from importlib import import_module
from typing import Any

from .config import ModelConfig
from .errors import ZooError
from .hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "RecurrentLM": "recurrent",
    "Trace": "recurrent",
    "State": "recurrent",
    "Option": "params",
    "LanguageModel": "interfaces",
    "Baseline": "interfaces",
    "Analyzer": "analysis",
    "Report": "analysis",
    "Param": "params",
    "AnalysisData": "analysis",
    "analyze": "analysis",
    "get_analyzer": "analysis",
    "text_features": "analysis",
    "Vocab": "vocab",
    "create_model": "registry",
    "resolve": "registry",
    "list_models": "registry",
    "list_architectures": "registry",
    "ModelSpec": "registry",
    "load": "loading",
    "locate": "loading",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
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
