"""The ``zoo`` command.

Every subcommand prints human-readable text by default and JSON with ``--json``. Errors a user can
cause are one line on stderr and exit status 1 (2 for bad usage, as click does). ``zoo --help``,
``zoo list`` and ``zoo plugins`` never import torch.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from .errors import ZooError

NOMINAL_VOCAB = 87  # for parameter counts when a model's vocabulary is not known yet


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"zoo: warning: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rnn-zoo", prog_name="zoo")
def cli() -> None:
    """RNN Zoo: train, share and take apart character-level recurrent language models.

    \b
    Models are named <arch>-<layers>x<hidden>[.<tag>], e.g. lstm-3x512 or lstm-2x128.warpeace.
    Architectures, baselines and analyzers come from plugins (entry-point group "zoo");
    `zoo plugins` shows which are installed.
    """


@cli.command("list")
@click.argument("pattern", required=False, default="*")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_cmd(pattern: str, as_json: bool) -> None:
    """List architectures, named models, baselines and analyzers.

    PATTERN filters the named models with a glob, e.g. 'lstm-*' or '*.linux'.
    """
    from .plugins import plugins
    from .registry import list_models, registry

    found = plugins()
    reg = registry()
    data = {
        kind + "s": [
            {"name": e.name, "plugin": e.plugin, "summary": e.summary}
            for e in sorted(found.entries[kind].values(), key=lambda e: e.name)
        ]
        for kind in ("architecture", "baseline", "analyzer")
    }
    data["models"] = [
        {
            "name": name,
            "arch": reg.models[name].arch,
            "dataset": reg.models[name].dataset,
            "installed": reg.models[name].arch in found.entries["architecture"],
            "reference_test_ce": (reg.models[name].reference or {}).get("test_ce"),
        }
        for name in list_models(pattern)
    ]
    data["problems"] = found.problems
    if as_json:
        _emit_json(data)
        return
    for kind in ("architectures", "baselines", "analyzers"):
        click.echo(f"{kind.capitalize()}:")
        for e in data[kind]:
            click.echo(f"  {e['name']:<14} {e['summary']}  [plugin: {e['plugin']}]")
        if not data[kind]:
            click.echo("  (none installed)")
    click.echo(f"Models ({len(data['models'])}{'' if pattern == '*' else f' matching {pattern!r}'}):")
    for m in data["models"]:
        ref = "" if m["reference_test_ce"] is None else f"paper test CE {m['reference_test_ce']}"
        missing = "" if m["installed"] else f"  (needs architecture '{m['arch']}': not installed)"
        click.echo(f"  {m['name']:<28} {ref}{missing}")


def _parameter_counts(config) -> dict[str, int]:
    """Parameter counts from a model built on the meta device (no memory, no initialization cost)."""
    import torch

    from .registry import create_model

    with torch.device("meta"):
        model = create_model(config)
    return {"recurrent": model.num_parameters(recurrent_only=True), "total": model.num_parameters()}


@cli.command()
@click.argument("name")
@click.option("--vocab-size", type=click.IntRange(min=1), help=f"Vocabulary size for the parameter count (default: the model's, else {NOMINAL_VOCAB}).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(name: str, vocab_size: int | None, as_json: bool) -> None:
    """Show a model's specification and parameter count.

    NAME is a model name (lstm-3x512, gru-2x149.warpeace) or a checkpoint directory.
    """
    from .config import ModelConfig
    from .registry import architecture, resolve

    if Path(name).is_dir():
        from .checkpoint import read_config

        saved = read_config(name)
        config = ModelConfig.from_dict(saved["model"])
        data: dict[str, Any] = {"checkpoint": str(Path(name).resolve()), **{k: v for k, v in saved.items() if k != "model"}}
    else:
        spec = resolve(name)
        architecture(spec.arch)  # a clear error if the architecture is missing
        config = spec.config(vocab_size or spec.vocab_size or NOMINAL_VOCAB)
        data = {"name": spec.name, "registered": spec.registered, **{k: v for k, v in spec.to_dict().items() if k not in ("name", "registered")}}
    cls = architecture(config.arch)
    config = cls.resolve_config(config)
    data["config"] = config.to_dict()
    data["parameters"] = _parameter_counts(config)
    if as_json:
        _emit_json(data)
        return
    title = data.get("name") or data["checkpoint"]
    click.echo(title + ("" if data.get("registered", True) else "  (not in the registry: an ad-hoc shape)"))
    for key in ("arch", "layers", "hidden", "input", "embed_dim", "bias", "dropout", "options"):
        click.echo(f"  {key:<12} {data['config'][key]}")
    for key in ("dataset", "description", "reference", "hub", "variants", "metrics", "zoo_version"):
        if data.get(key):
            value = ", ".join(data[key]) if key == "variants" else data[key]
            click.echo(f"  {key:<12} {value}")
    p = data["parameters"]
    click.echo(f"  parameters   {p['total']:,} ({p['recurrent']:,} recurrent) for a vocabulary of {config.vocab_size}")


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: version, hooks, and what each registers."""
    from .plugins import plugins

    found = plugins()
    rows = [info.to_dict() for info in found.info.values()]
    if as_json:
        _emit_json({"plugins": rows, "problems": found.problems})
        return
    for row in rows:
        where = f"{row['distribution']} {row['version']}" if row["distribution"] else row["module"]
        click.echo(f"{row['name']}  ({where})")
        if row["error"]:
            click.echo(f"  error: {row['error']}")
        for kind, names in row["registers"].items():
            click.echo(f"  {kind}s: {', '.join(names)}")
    if not rows:
        click.echo("(no plugins installed)")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ZooError -> one line on stderr, exit 1."""
    warnings.showwarning = _show_warning
    try:
        cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except ZooError as exc:
        click.echo(f"zoo: error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("zoo: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("zoo: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
