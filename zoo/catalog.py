"""What is installed and named, as data: the catalog `zoo list` prints and the record `zoo info`
prints, for the CLI and for scripts alike. Listing imports no torch; describing a model builds it
on the meta device to count its parameters."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from .errors import ZooError

NOMINAL_VOCAB = 87  # for parameter counts when a model's vocabulary is not known yet
KINDS = ("architecture", "task", "baseline", "analyzer", "feature")  # as `zoo list` shows them


def catalog(pattern: str = "*", pretrained: bool = False) -> dict[str, Any]:
    """Every registered thing whose name matches the glob `pattern` (by kind: "architectures",
    "tasks", ...; analyzers and tasks with their parameters), the named models (with
    `pretrained`: only those with weights to use now), and the plugins' problems."""
    from .plugins import plugins
    from .registry import list_models, registry

    found = plugins()

    def listed(kind: str) -> list[dict[str, Any]]:
        return [{"name": e.name, "plugin": e.plugin, "summary": e.summary}
                for e in sorted(found.entries[kind].values(), key=lambda e: e.name)
                if fnmatch.fnmatchcase(e.name, pattern) or fnmatch.fnmatchcase(e.name, pattern.split("-")[0])]

    data = {kind + "s": listed(kind) for kind in KINDS}
    for row in data["analyzers"]:  # the registration's summary stays; the record adds needs and parameters
        row.update({k: v for k, v in analyzer_record(row["name"]).items() if k != "summary"})
    for row in data["tasks"]:
        row.update(task_record(row["name"]))
    reg = registry()
    data["models"] = [row for row in (model_row(reg.models[name], found) for name in list_models(pattern))
                      if row["weights"] or not pretrained]
    data["problems"] = found.problems
    return data


def weights_home(spec) -> str | None:
    """Where a named model's weights are: shipped with the zoo, released in this clone of its
    repository, or pinned on the Hub."""
    from .registry import released_folder

    if spec.bundled:
        return "shipped with the zoo"
    if released_folder(spec):
        return f"released ({released_folder(spec).parent.name}/{spec.name})"
    return f"hf:{spec.hub['repo_id']}@{spec.hub['revision']}" if spec.hub else None


def model_row(spec, found) -> dict[str, Any]:
    """A named model as `zoo list` shows it."""
    return {"name": spec.name, "arch": spec.arch, "dataset": spec.dataset, "task": spec.task,
            "installed": spec.arch in found.entries["architecture"],
            "reference_test_ce": (spec.reference or {}).get("test_ce"),
            "test_ce": (spec.released or {}).get("test_ce"), "test_se": (spec.released or {}).get("test_se"),
            "weights": weights_home(spec)}


def _params(params: dict) -> dict[str, dict[str, Any]]:
    """Parameters as `zoo list` shows them: each default (a list as a,b,c) and what it means."""
    return {key: {"default": ",".join(map(str, p.default)) if isinstance(p.default, tuple) else p.default,
                  "doc": p.doc} for key, p in params.items()}


def analyzer_record(name: str) -> dict[str, Any]:
    """An analyzer's needs and parameters (its module stays torch-free), or the error that keeps
    it from loading."""
    from .analysis import get_analyzer

    try:
        runner = get_analyzer(name)
    except ZooError as exc:
        return {"error": str(exc)}
    return {"summary": runner.summary, "requires": sorted(runner.requires), "needs": sorted(runner.needs),
            "params": _params(runner.params)}


def baseline_record(name: str) -> dict[str, Any]:
    """A baseline's parameters (what `zoo baseline fit --set` may change), or the error that keeps
    it from loading. Unlike the other records this imports the plugin's class, and so torch."""
    from .plugins import plugins

    try:
        cls = plugins().get("baseline", name).load()
    except ZooError as exc:
        return {"error": str(exc)}
    return {"summary": plugins().entries["baseline"][name].summary, "params": _params(getattr(cls, "params", {}))}


def task_record(name: str) -> dict[str, Any]:
    """A task's parameters and the unit of its figures, or the error that keeps it from loading."""
    from .tasks import get_task

    try:
        task = get_task(name)
    except ZooError as exc:
        return {"error": str(exc)}
    return {"unit": task.unit, "params": _params(task.params)}


def describe(name: str, vocab_size: int | None = None, announce: bool = True) -> dict[str, Any]:
    """What `zoo info` shows of `name`: a model name (its registry entry), or a checkpoint, run,
    baseline or Hub checkpoint (its config, and whether its weights verify); with the resolved
    config and the parameter counts of a recurrent model."""
    from .checkpoint import read_config
    from .config import ModelConfig
    from .hub import parse_spec
    from .plugins import blame, plugins
    from .registry import architecture, resolve, weights_of

    if parse_spec(name):
        from .loading import locate

        name = str(locate(name, announce=announce))
    if Path(name).is_dir():
        data, saved = _checkpoint_record(name)
        if "baseline" in saved:  # a fitted n-gram or n-NN: its plugin's settings, no architecture
            return {**data, "plugin": plugins().provider("baseline", saved["baseline"]["name"])}
        config = ModelConfig.from_dict(saved["model"])
    else:
        spec = resolve(name)
        local = weights_of(spec)  # weights here: their vocabulary is the one to count
        if isinstance(local, Path) and vocab_size is None:
            vocab_size = read_config(local)["model"]["vocab_size"]
        config = spec.config(vocab_size or spec.vocab_size or NOMINAL_VOCAB)
        data = {"name": spec.name, "registered": spec.registered,
                **{k: v for k, v in spec.to_dict().items() if k not in ("name", "registered")},
                "weights": _weights_of_name(spec)}
    cls = architecture(config.arch)
    with blame("architecture", config.arch):  # as create_model: the lookup's errors are zoo's, the call's the plugin's
        config = cls.resolve_config(config)
    return {**data, "config": config.to_dict(), "plugin": plugins().provider("architecture", config.arch),
            "option_docs": _params(getattr(cls, "options", {})), "parameters": _parameter_counts(config)}


def _weights_of_name(spec) -> str:
    """Where a named model's weights are; for a shape without a tag, the variant's that `--model`
    would load (`registry.resolve_weights`)."""
    from .registry import resolve_weights

    try:
        found, _ = resolve_weights(spec.name)
    except ZooError:
        return "none released"
    home = weights_home(found)
    return home if found.name == spec.name else f"{found.name}'s: {home}"


def _checkpoint_record(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what `zoo info` shows of a checkpoint directory, its config as saved)."""
    from .checkpoint import check_provider, checkpoint_dir, read_config
    from .config import ModelConfig
    from .hub import published_analyses

    saved = read_config(name)
    data: dict[str, Any] = {"checkpoint": str(Path(name).resolve()), **{k: v for k, v in saved.items() if k != "model"}}
    if "words" in data:  # a word model's thousands of words: their number, not the list
        data["words"] = len(data["words"])
    if "baseline" in saved:
        return data, saved
    check_provider(checkpoint_dir(name), ModelConfig.from_dict(saved["model"]).arch, saved.get("plugin"))
    data["weights"] = _weights_check(name)
    published = published_analyses(name)
    if published:
        data["analyses"] = published
    return data, saved


def _weights_check(directory: str) -> str:
    """What loading a checkpoint directory finds: its weights verified, or why it is refused."""
    from .checkpoint import load_checkpoint

    try:
        load_checkpoint(directory)
    except ZooError as exc:
        return f"refused: {exc}"
    return "verified: they match config.json's sha256 and the model's shapes"


def _parameter_counts(config) -> dict[str, int]:
    """Parameter counts from a model built on the meta device (no memory, no initialization cost)."""
    import torch

    from .registry import create_model

    with torch.device("meta"):
        model = create_model(config)
    return {"recurrent": model.num_parameters(recurrent_only=True), "total": model.num_parameters()}
