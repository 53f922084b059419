"""`zoo list`, `zoo info` and `zoo plugins`: what is installed and named. `zoo list` and `zoo plugins`
never import torch; `zoo info` builds its model on the meta device to count its parameters."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ZooError
from .common import checkpoint_path, complete_models, emit_json

NOMINAL_VOCAB = 87  # for parameter counts when a model's vocabulary is not known yet


@click.command("list")
@click.argument("pattern", required=False, default="*")
@click.option("--pretrained", is_flag=True, help="Only the named models that have weights to use now (shipped with the "
                                                  "zoo, released in its repository, or pinned on the Hub), with their "
                                                  "test cross-entropy beside the paper's, and nothing else.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_cmd(pattern: str, pretrained: bool, as_json: bool) -> None:
    """List architectures, baselines, analyzers (with their parameters), text features and named models.

    PATTERN filters everything with a glob, e.g. 'lstm*' or '*.linux'. A named model's weights,
    where it has some, are shown beside it: `zoo eval --model NAME` uses them.
    """
    from ..plugins import plugins
    from ..registry import list_models, registry, released_folder

    found = plugins()
    reg = registry()
    import fnmatch

    def listed(kind: str) -> list[dict[str, Any]]:
        return [{"name": e.name, "plugin": e.plugin, "summary": e.summary}
                for e in sorted(found.entries[kind].values(), key=lambda e: e.name)
                if fnmatch.fnmatchcase(e.name, pattern) or fnmatch.fnmatchcase(e.name, pattern.split("-")[0])]

    data = {kind + "s": listed(kind) for kind in ("architecture", "baseline", "analyzer")}

    def weights(spec) -> str | None:
        """Where a named model's weights are: shipped with the zoo, released in this clone of its
        repository, or pinned on the Hub."""
        if spec.bundled:
            return "shipped with the zoo"
        if released_folder(spec):
            return f"released ({released_folder(spec).parent.name}/{spec.name})"
        return f"hf:{spec.hub['repo_id']}@{spec.hub['revision']}" if spec.hub else None

    data["models"] = [
        {
            "name": name,
            "arch": reg.models[name].arch,
            "dataset": reg.models[name].dataset,
            "task": reg.models[name].task,
            "installed": reg.models[name].arch in found.entries["architecture"],
            "reference_test_ce": (reg.models[name].reference or {}).get("test_ce"),
            "test_ce": (reg.models[name].released or {}).get("test_ce"),
            "test_se": (reg.models[name].released or {}).get("test_se"),
            "weights": weights(reg.models[name]),
        }
        for name in list_models(pattern)
        if weights(reg.models[name]) or not pretrained
    ]
    data["features"] = listed("feature")
    for row in data["analyzers"]:  # the registration's summary stays; the record adds needs and parameters
        row.update({k: v for k, v in analyzer_record(row["name"]).items() if k != "summary"})
    data["problems"] = found.problems
    if as_json:
        emit_json(data)
        return
    for kind in () if pretrained else ("architectures", "baselines", "analyzers", "features"):
        click.echo(f"{kind.capitalize()}:")
        for e in data[kind]:
            click.echo(f"  {e['name']:<14} {e['summary']}  [plugin: {e['plugin']}]")
            if e.get("params"):
                params = ", ".join(f"{k}={v['default']}" for k, v in e["params"].items())
                click.echo(f"  {'':<14} parameters: {params}")
        if not data[kind]:
            click.echo("  (none installed)" if pattern == "*" else f"  (none matching {pattern!r})")
    which = ("with weights" if pretrained else "") + ("" if pattern == "*" else f" matching {pattern!r}")
    click.echo(f"Models ({len(data['models'])}{' ' + which.strip() if which else ''}):")
    for m in data["models"]:
        ref = "" if m["reference_test_ce"] is None else f"paper test CE {m['reference_test_ce']}"
        if m["test_ce"] is not None:
            ref = (f"test CE {m['test_ce']:.4f} ± {m['test_se']:.4f}"
                   + (f" (paper {m['reference_test_ce']})" if ref else ""))
        if m["task"] != "next-char":
            ref = f"{m['task']}: {ref.replace('CE', 'word-level CE')}"
        notes = [ref] if ref else []
        if m["weights"]:
            notes.append(f"weights: {m['weights']}")
        missing = "" if m["installed"] else f"  (needs architecture '{m['arch']}': not installed)"
        click.echo(f"  {m['name']:<28} {'; '.join(notes)}{missing}".rstrip())


def analyzer_record(name: str) -> dict[str, Any]:
    """An analyzer's needs and parameters, as `zoo list` shows them (its module stays torch-free)."""
    from ..analysis import get_analyzer

    try:
        runner = get_analyzer(name)
    except ZooError as exc:
        return {"error": str(exc)}
    show = lambda v: ",".join(map(str, v)) if isinstance(v, tuple) else v  # noqa: E731
    return {"summary": runner.summary, "requires": sorted(runner.requires), "needs": sorted(runner.needs),
            "params": {k: {"default": show(p.default), "doc": p.doc} for k, p in runner.params.items()}}


def _parameter_counts(config) -> dict[str, int]:
    """Parameter counts from a model built on the meta device (no memory, no initialization cost)."""
    import torch

    from ..registry import create_model

    with torch.device("meta"):
        model = create_model(config)
    return {"recurrent": model.num_parameters(recurrent_only=True), "total": model.num_parameters()}


@click.command()
@click.argument("name", shell_complete=complete_models)
@click.option("--vocab-size", type=click.IntRange(min=1),
              help=f"Vocabulary size for the parameter count (default: the model's, else {NOMINAL_VOCAB}).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(name: str, vocab_size: int | None, as_json: bool) -> None:
    """Show a model's specification and parameter count.

    NAME is a model name (lstm-3x512, gru-2x149.warpeace), a checkpoint, run or baseline
    directory, or a Hub checkpoint (hf:org/name@revision, pulled on first use).
    """
    from ..config import ModelConfig
    from ..hub import parse_spec, published_analyses
    from ..registry import architecture, resolve

    if parse_spec(name):
        name = str(checkpoint_path(name, announce=not as_json))
    if Path(name).is_dir():
        from ..checkpoint import check_provider, checkpoint_dir, read_config

        saved = read_config(name)
        data: dict[str, Any] = {"checkpoint": str(Path(name).resolve()),
                                **{k: v for k, v in saved.items() if k != "model"}}
        if "words" in data:  # an autocomplete model's 16k words: their number, not the list
            data["words"] = len(data["words"])
        if "baseline" in saved:  # a fitted n-gram or n-NN: its plugin's settings, no architecture
            return _baseline_info(data, as_json)
        config = ModelConfig.from_dict(saved["model"])
        check_provider(checkpoint_dir(name), config.arch, saved.get("plugin"))  # as loading it would say
        data["weights"] = _weights_check(name)
        published = published_analyses(name)
        if published:
            data["analyses"] = published
    else:
        spec = resolve(name)
        config = spec.config(vocab_size or spec.vocab_size or NOMINAL_VOCAB)
        data = {"name": spec.name, "registered": spec.registered,
                **{k: v for k, v in spec.to_dict().items() if k not in ("name", "registered")}}
    from ..plugins import blame, plugins

    cls = architecture(config.arch)
    with blame("architecture", config.arch):  # as create_model: the lookup's errors are zoo's, the call's the plugin's
        config = cls.resolve_config(config)
    data["config"] = config.to_dict()

    data["plugin"] = plugins().provider("architecture", config.arch)
    data["parameters"] = _parameter_counts(config)
    if as_json:
        emit_json(data)
        return
    title = data.get("name") or data["checkpoint"]
    if data.get("registered", True):
        note = ""
    else:
        note = ("  (the shape of the registered variants below)" if data.get("variants")
                else "  (not in the registry: an ad-hoc shape)")
    click.echo(title + note)
    for key in ("arch", "layers", "hidden", "input", "embed_dim", "bias", "dropout", "options"):
        click.echo(f"  {key:<12} {data['config'][key]}")
    if config.task != "next-char":
        click.echo(f"  {'task':<12} {config.task} ({config.output_size:,} classes: words, padding and unknown)")
    _echo_sections(data)
    p = data["parameters"]
    click.echo(f"  parameters   {p['total']:,} ({p['recurrent']:,} recurrent) for a vocabulary of {config.vocab_size}")
    if "weights" in data:
        click.echo(f"  weights      {data['weights']}")
    if "analyses" in data:
        click.echo(f"  analyses     {', '.join(data['analyses'])} (in analyses/, published with the weights)")


def _weights_check(directory: str) -> str:
    """What loading a checkpoint directory finds: its weights verified, or why it is refused."""
    from ..checkpoint import load_checkpoint

    try:
        load_checkpoint(directory)
    except ZooError as exc:
        return f"refused: {exc}"
    return "verified: they match config.json's sha256 and the model's shapes"


def _baseline_info(data: dict[str, Any], as_json: bool) -> None:
    """`zoo info` on a fitted baseline's directory."""
    from ..plugins import plugins

    baseline = data["baseline"]
    data["plugin"] = plugins().provider("baseline", baseline["name"])
    if as_json:
        emit_json(data)
        return
    settings = {k: v for k, v in baseline.items() if k not in ("name", "history")}
    if baseline.get("history"):  # per-epoch losses: their count here, the list in --json
        settings["epochs"] = len(baseline["history"])
    click.echo(data["checkpoint"])
    click.echo(f"  {'baseline':<12} {baseline['name']}: {_readable(settings)}")
    _echo_sections(data)
    click.echo(f"  {'vocabulary':<12} {len(data['vocab']['chars']) if data.get('vocab') else 'none'} characters")


def _echo_sections(data: dict[str, Any]) -> None:
    """The lines `zoo info` shows after a model's shape: its plugin and what its record holds."""
    if data.get("plugin"):
        where = data["plugin"]
        click.echo(f"  {'plugin':<12} {where['entry_point']} "
                   f"({where['distribution'] or 'in-process'} {where['version'] or ''})".rstrip())
    for key in ("dataset", "description", "reference", "hub", "variants", "metrics", "zoo_version"):
        if data.get(key):
            click.echo(f"  {key:<12} {_readable(data[key])}")


def _readable(value: Any, key: str = "") -> str:
    """A config value on one line for people: ``key value`` pairs (a section within a section in
    parentheses), floats to 4 places, counts with thousands separators, digests cut."""
    if isinstance(value, dict):
        return ", ".join(f"{k} ({_readable(v, k)})" if isinstance(v, dict) else f"{k} {_readable(v, k)}"
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "/".join(map(_readable, value)) if all(isinstance(v, (int, float)) for v in value) \
            else ", ".join(map(_readable, value))
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if key.endswith("seed") else f"{value:,}"
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12] + "…"  # a sha256: enough to tell files apart (--json has it whole)
    return str(value)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: version, hooks, what each registers, and what is wrong with it.

    \b
    Under ZOO_STRICT_PLUGINS=1 the list is printed first, then the command fails if any plugin
    has a problem. ZOO_PLUGIN_TRACEBACK=1 adds the traceback of a plugin that failed.
    """
    import warnings as _warnings

    from ..plugins import Plugins

    with _warnings.catch_warnings():  # the problems are shown below, once
        _warnings.simplefilter("ignore")
        found = Plugins(strict=False)  # diagnose everything, even where strict mode would stop
    rows = [info.to_dict() for info in found.info.values()]
    strict = os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")
    if as_json:
        emit_json({"plugins": rows, "problems": found.problems})
        if strict and found.problems:
            sys.exit(1)
        return
    for row in rows:
        where = f"{row['distribution']} {row['version']}" if row["distribution"] else row["module"]
        click.echo(f"{row['name']}  ({where})")
        if row["error"]:
            click.echo(f"  error: {row['error']}")
        for conflict in row["conflicts"]:
            click.echo(f"  conflict: {conflict}")
        for kind, names in row["registers"].items():
            if names:
                click.echo(f"  {kind}s: {', '.join(names)}")
    if not rows:
        click.echo("(no plugins installed)")
    if strict and found.problems:
        raise ZooError(f"{len(found.problems)} plugin problem(s), and ZOO_STRICT_PLUGINS is set")
