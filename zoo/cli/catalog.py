"""`zoo list`, `zoo info` and `zoo plugins`: what is installed and named. `zoo list` and `zoo plugins`
never import torch; `zoo info` builds its model on the meta device to count its parameters."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ..errors import ZooError
from .common import complete_models, emit_json


@click.command("list")
@click.argument("pattern", required=False, default="*")
@click.option("--pretrained", is_flag=True, help="Only the named models that have weights to use now (shipped with the "
                                                  "zoo, released in its repository, or pinned on the Hub), with their "
                                                  "test cross-entropy beside the paper's, and nothing else.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_cmd(pattern: str, pretrained: bool, as_json: bool) -> None:
    """List architectures, tasks, baselines, analyzers (with their parameters), text features and
    named models.

    PATTERN filters everything with a glob, e.g. 'lstm*' or '*.linux'. A named model's weights,
    where it has some, are shown beside it: `zoo eval --model NAME` uses them.
    """
    from ..catalog import KINDS, catalog

    data = catalog(pattern, pretrained)
    if as_json:
        emit_json(data)
        return
    kinds = [] if pretrained else [kind + "s" for kind in KINDS]
    width = max((len(e["name"]) for kind in kinds for e in data[kind]), default=0)  # one column for all
    for kind in kinds:
        click.echo(f"{kind.capitalize()}:")
        for e in data[kind]:
            click.echo(f"  {e['name']:<{width}}  {e['summary']}  [plugin: {e['plugin']}]")
            if e.get("params"):
                params = ", ".join(f"{k}={v['default']}" for k, v in e["params"].items())
                click.echo(f"  {'':<{width}}  parameters: {params}")
        if not data[kind]:
            click.echo("  (none installed)" if pattern == "*" else f"  (none matching {pattern!r})")
    which = ("with weights" if pretrained else "") + ("" if pattern == "*" else f" matching {pattern!r}")
    click.echo(f"Models ({len(data['models'])}{' ' + which.strip() if which else ''}):")
    width = max((len(m["name"]) for m in data["models"]), default=0)
    for m in data["models"]:
        click.echo(_model_line(m, width))


def _model_line(m: dict[str, Any], width: int) -> str:
    """A named model in `zoo list`: its test figure beside the paper's, where its weights are."""
    ref = "" if m["reference_test_ce"] is None else f"paper test CE {m['reference_test_ce']}"
    if m["test_ce"] is not None:
        ref = f"test CE {m['test_ce']:.4f} ± {m['test_se']:.4f}" + (f" (paper {m['reference_test_ce']})" if ref else "")
    if m["task"] != "next-char":
        ref = f"{m['task']}: {ref}"
    notes = [ref] if ref else []
    if m["weights"]:
        notes.append(f"weights: {m['weights']}")
    missing = "" if m["installed"] else f"  (needs architecture '{m['arch']}': not installed)"
    return f"  {m['name']:<{width}}  {'; '.join(notes)}{missing}".rstrip()


@click.command()
@click.argument("name", shell_complete=complete_models)
@click.option("--vocab-size", type=click.IntRange(min=1),
              help="Vocabulary size for the parameter count (default: the model's, else 87).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(name: str, vocab_size: int | None, as_json: bool) -> None:
    """Show a model's specification, parameter count and weights.

    NAME is a model name (lstm-3x512, gru-2x149.warpeace), a checkpoint, run or baseline
    directory, or a Hub checkpoint (hf:org/name@revision, pulled on first use). Exits with 1
    when the checkpoint's weights are refused (the reason is shown).
    """
    from ..catalog import describe

    data = describe(name, vocab_size, announce=not as_json)
    if as_json:
        emit_json(data)
    elif "baseline" in data:
        _baseline_info(data)
    else:
        _model_info(data)
    if str(data.get("weights", "")).startswith("refused"):  # shown above; a script must see it too
        raise click.exceptions.Exit(1)


def _model_info(data: dict[str, Any]) -> None:
    """`zoo info` for people, on a recurrent model."""
    config = data["config"]
    if data.get("registered", True):
        note = ""
    else:
        note = ("  (the shape of the registered variants below)" if data.get("variants")
                else "  (not in the registry: an ad-hoc shape)")
    click.echo((data.get("name") or data["checkpoint"]) + note)
    for key in ("arch", "layers", "hidden", "input", "embed_dim", "bias", "dropout"):
        click.echo(f"  {key:<12} {config[key]}")
    documented = data.get("option_docs") or {}
    for i, (key, value) in enumerate(config["options"].items()):  # each with what it means (`zoo train --set`)
        doc = documented.get(key, {}).get("doc", "")
        click.echo(f"  {'options' if i == 0 else '':<12} {key}={value}" + (f": {doc}" if doc else ""))
    if not config["options"]:
        click.echo(f"  {'options':<12} none")
    if config.get("task", "next-char") != "next-char":
        classes = f" ({config['classes']:,} classes)" if config.get("classes") else ""
        click.echo(f"  {'task':<12} {config['task']}{classes}")
    _echo_sections(data)
    p = data["parameters"]
    click.echo(f"  parameters   {p['total']:,} ({p['recurrent']:,} recurrent) "
               f"for a vocabulary of {config['vocab_size']}")
    if "weights" in data:
        click.echo(f"  weights      {data['weights']}")
    if "analyses" in data:
        click.echo(f"  analyses     {', '.join(data['analyses'])} (in analyses/, published with the weights)")


def _baseline_info(data: dict[str, Any]) -> None:
    """`zoo info` for people, on a fitted baseline's directory."""
    baseline = data["baseline"]
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
