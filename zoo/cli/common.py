"""What the commands share: loading a --model, naming models, the corpus a model was trained
on, JSON output and shell completion."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ..errors import ZooError


class ZooInterrupted(ZooError):
    """Ctrl-C, with what the user should know about what was kept (exit status 130)."""


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def complete_models(ctx, param, incomplete: str) -> list:
    """Shell completion of a model to load: registry names with weights (for `zoo info`, every
    name), then directories."""
    from click.shell_completion import CompletionItem

    from ..registry import registry

    named = [name for name, spec in registry().models.items()
             if (spec.bundled or spec.hub or ctx.command.name == "info") and name.startswith(incomplete)]
    return [*map(CompletionItem, named), CompletionItem(incomplete, type="dir")]


def checkpoint_path(spec: str, announce: bool = True, analyses: bool = False) -> Path:
    """The directory behind a --model value: a checkpoint or run directory as given; a Hub
    checkpoint, ``hf:org/name@revision``; or a registry name's weights (shipped with the zoo, or
    pinned on the Hub). Hub checkpoints are pulled into the Hugging Face cache on first use."""
    from .. import hub
    from ..registry import bundled_checkpoint, resolve

    if Path(spec).is_dir():
        return Path(spec)
    on_hub = hub.parse_spec(spec)
    if on_hub:
        path = hub.pull(*on_hub, progress=announce, analyses=analyses)
        if announce:
            click.echo(f"zoo: using {spec} from the Hugging Face cache: {path}", err=True)
        return path
    if spec.startswith("hf:"):
        raise ZooError(f"'{spec}' is not a Hub checkpoint's name: write hf:ORG/NAME@REVISION")
    if Path(spec).exists():
        raise ZooError(f"{spec} is a file, not a checkpoint or run directory")
    if "/" in spec or os.sep in spec:  # registry names hold no slash: this was meant as a folder
        raise ZooError(f"no checkpoint or run directory at {spec}")
    named = resolve(spec)  # a clear error for unknown names
    path = bundled_checkpoint(named)
    if path is None and named.hub:
        return hub.pull(named.hub["repo_id"], named.hub["revision"], named.hub.get("sha256"), analyses=analyses)
    if path is None:
        raise ZooError(f"model '{named.name}' has no released weights yet: train it with `zoo train --model {named.name}` "
                       "and pass the run directory")
    return path


def load_model(spec: str, device: str = "auto"):
    """``(model, its checkpoint directory)`` for a --model value (see `checkpoint_path`),
    resolved once: a Hub checkpoint is looked up and verified a single time. Every command that
    loads a model reads text with it, so a checkpoint saved without a vocabulary is refused here."""
    from ..checkpoint import checkpoint_dir, load_checkpoint
    from ..train import pick_device

    path = checkpoint_dir(checkpoint_path(spec))
    model = load_checkpoint(path)
    if getattr(model, "vocab", None) is None:
        raise ZooError(f"{path} has no vocabulary: it cannot read text")
    return (model.to(pick_device(device)) if hasattr(model, "to") else model), path


def labelled(specs: list[str]) -> list[tuple[str, str]]:
    """(name in reports, model) for each spec: ``NAME=MODEL`` names its model; else a directory's
    name, or the spec itself. The first (the analysed model) keeps its name; a later one that
    would repeat an earlier one's takes more of its path (runs/a/lstm against runs/b/lstm:
    b/lstm), or a number."""
    found: list[tuple[str, str]] = []
    labels: list[str] = []
    for spec in specs:
        given, sep, model = spec.partition("=")
        if sep and given and model and "/" not in given and not Path(spec).exists():
            spec = model
        else:
            given = ""
        path = Path(spec).resolve() if Path(spec).is_dir() and not given else None
        label, depth = (given or (path.name if path else spec)), 1
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


def trained_corpus(saved: dict[str, Any], data, line_endings, fractions, progress: bool):
    """The corpus a model is evaluated or analysed on: --data, else the one it was trained on
    (refused if that file has changed since)."""
    from ..data import load_corpus

    trained_on = saved.get("dataset") or {}
    source = data or trained_on.get("source") or trained_on.get("name")
    if not source:
        raise ZooError("this checkpoint does not record its dataset: pass --data")
    trained_endings = trained_on.get("line_endings", "lf")
    try:
        corpus = load_corpus(source, line_endings=line_endings or trained_endings,
                             split=fractions or (None if data else trained_on.get("split")), progress=progress)
    except ZooError as exc:
        if data:
            raise
        # a published checkpoint records the file's name, not where it was: say how to give it
        raise ZooError(f"{exc}; the model was trained on {source} (sha256 {str(trained_on.get('sha256', '?'))[:12]}...): "
                       "pass that text with --data") from None
    same_text = not data and line_endings in (None, trained_endings)  # other line endings: another text, asked for
    if same_text and trained_on.get("sha256") and trained_on["sha256"] != corpus.sha256:
        raise ZooError(f"{source} has changed since the model was trained on it (sha256 differs): pass --data explicitly")
    return corpus


def is_autocomplete(model) -> bool:
    return getattr(getattr(model, "config", None), "task", None) == "autocomplete"
