"""What the commands share: loading a --model, naming models, the corpus a model was trained
on, JSON output and shell completion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import ZooError


class ZooInterrupted(ZooError):
    """Ctrl-C, with what the user should know about what was kept (exit status 130)."""


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


class ParamsEpilog(click.Command):
    """A command whose --help ends with every installed thing of `kind` and its parameters
    (`zoo analyze`'s analyzers, `zoo baseline fit`'s baselines): `record(name)` is its catalog
    record (summary and params, or error), `note(record)` what its line adds after the summary."""

    kind: str  # each subclass sets kind, heading and record
    heading: str
    record: Any
    note = staticmethod(lambda record: "")

    def format_epilog(self, ctx, formatter) -> None:
        from ..plugins import plugins

        lines = []
        for name in plugins().names(self.kind):
            record = self.record(name)
            if "error" in record:
                lines.append(f"{name}: unavailable ({record['error']})")
                continue
            lines.append(f"{name}: {record['summary']}{self.note(record)}")
            lines += [f"    {key}={param['default']}: {param['doc']}" for key, param in record["params"].items()]
        with formatter.section(self.heading):
            formatter.write_text("\b\n" + ("\n".join(lines) or f"(no {self.kind}s installed)"))


def complete_models(ctx, param, incomplete: str) -> list:
    """Shell completion of a model to load: registry names with weights (for `zoo info`, every
    name), then directories."""
    from click.shell_completion import CompletionItem

    from ..registry import registry, weights_of

    named = [name for name, spec in registry().models.items()
             if (ctx.command.name == "info" or weights_of(spec) is not None) and name.startswith(incomplete)]
    return [*map(CompletionItem, named), CompletionItem(incomplete, type="dir")]


def checkpoint_path(spec: str, announce: bool = True, analyses: bool = False) -> Path:
    """The directory behind a --model value (`zoo.loading.locate`)."""
    from ..loading import locate

    return locate(spec, announce=announce, analyses=analyses)


def load_model(spec: str, device: str = "auto"):
    """``(model, its checkpoint directory)`` for a --model value (`zoo.load`)."""
    from ..loading import load

    model = load(spec, device=device, announce=True)
    return model, model.checkpoint


def folder_name(name: str, what: str) -> str:
    """`name` if it can be one folder's name inside another (a label names the report folder
    reports/<label>), else one line: empty, ``.``, ``..``, a separator or a control character
    would put the folder elsewhere (``..=MODEL`` wrote into the current folder)."""
    if name in ("", ".", "..") or any(c in "/\\" or ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise ZooError(f"{what} cannot name a folder ({name!r}): give a name, not '.' or '..', without '/', '\\' "
                       "or control characters")
    return name


def labelled(specs: list[str]) -> list[tuple[str, str]]:
    """(name in reports, model) for each spec: ``NAME=MODEL`` names its model; else a directory's
    name, or the spec itself. The first (the analysed model) keeps its name; a later one that
    would repeat an earlier one's takes more of its path (runs/a/lstm against runs/b/lstm:
    b/lstm), or a number."""
    found: list[tuple[str, str]] = []
    labels: list[str] = []
    for spec in specs:
        given, sep, model = spec.partition("=")
        if sep and model and "/" not in given and not Path(spec).exists():
            folder_name(given, f"{spec!r}: the NAME of NAME=MODEL")
            spec = model
        else:
            given = ""
        path = Path(spec).resolve() if Path(spec).is_dir() and not given else None
        label, depth = (given or (path.name if path else _loaded_name(spec))), 1
        while label in labels and path and depth < len(path.parts) - 1:
            depth += 1
            label = "/".join(path.parts[-depth:])
        base, n = label, 1
        while label in labels:  # the same model given twice
            n += 1
            label = f"{base} ({n})"
        labels.append(label)
        found.append((label, spec))
    return found


def _loaded_name(spec: str) -> str:
    """A registry name as the model it loads (``lstm-3x512`` is ``lstm-3x512.warpeace``, the
    first variant with weights), so that reports say which; any other spec as it is."""
    from ..hub import parse_spec
    from ..registry import resolve_weights

    if parse_spec(spec):
        return spec
    try:
        return resolve_weights(spec)[0].name
    except ZooError:
        return spec


def trained_corpus(saved: dict[str, Any], data, line_endings, fractions, progress: bool):
    """The corpus a model is evaluated or analysed on (`zoo.data.trained_corpus`)."""
    from ..data import trained_corpus as corpus_of

    return corpus_of(saved, data, line_endings, fractions, progress)

