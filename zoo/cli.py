"""The ``zoo`` command.

Every subcommand prints human-readable text by default and JSON with ``--json``. Every error is
one line on stderr and exit status 1 (2 for bad usage, as click does): a user's mistake as a
ZooError, anything else through `zoo.plugins.explain` (the failing plugin, the system, or a bug in
zoo, with the traceback under ZOO_TRACEBACK=1). ``zoo --help``,
``zoo list`` and ``zoo plugins`` never import torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from .config import TASKS
from .errors import ZooError

NOMINAL_VOCAB = 87  # for parameter counts when a model's vocabulary is not known yet


class ZooInterrupted(ZooError):
    """Ctrl-C, with what the user should know about what was kept (exit status 130)."""


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
@click.option("--pretrained", is_flag=True, help="Only the named models that have weights to use now (shipped with the "
                                                  "zoo, or pinned on the Hub), and nothing else.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_cmd(pattern: str, pretrained: bool, as_json: bool) -> None:
    """List architectures, baselines, analyzers (with their parameters), text features and named models.

    PATTERN filters everything with a glob, e.g. 'lstm*' or '*.linux'. A named model's weights,
    where it has some, are shown beside it: `zoo eval --model NAME` uses them.
    """
    from .plugins import plugins
    from .registry import list_models, registry

    found = plugins()
    reg = registry()
    import fnmatch

    def listed(kind: str) -> list[dict[str, Any]]:
        return [{"name": e.name, "plugin": e.plugin, "summary": e.summary}
                for e in sorted(found.entries[kind].values(), key=lambda e: e.name)
                if fnmatch.fnmatchcase(e.name, pattern) or fnmatch.fnmatchcase(e.name, pattern.split("-")[0])]

    data = {kind + "s": listed(kind) for kind in ("architecture", "baseline", "analyzer")}

    def weights(spec) -> str | None:
        """Where a named model's weights are: shipped with the zoo, or pinned on the Hub."""
        if spec.bundled:
            return "shipped with the zoo"
        return f"hf:{spec.hub['repo_id']}@{spec.hub['revision']}" if spec.hub else None

    data["models"] = [
        {
            "name": name,
            "arch": reg.models[name].arch,
            "dataset": reg.models[name].dataset,
            "task": reg.models[name].task,
            "installed": reg.models[name].arch in found.entries["architecture"],
            "reference_test_ce": (reg.models[name].reference or {}).get("test_ce"),
            "weights": weights(reg.models[name]),
        }
        for name in list_models(pattern)
        if weights(reg.models[name]) or not pretrained
    ]
    data["features"] = listed("feature")
    for row in data["analyzers"]:  # the registration's summary stays; the record adds needs and parameters
        row.update({k: v for k, v in _analyzer_record(row["name"]).items() if k != "summary"})
    data["problems"] = found.problems
    if as_json:
        _emit_json(data)
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
        if m["task"] != "next-char":
            ref = f"{m['task']}: {ref.replace('CE', 'word-level CE')}"
        notes = [ref] if ref else []
        if m["weights"]:
            notes.append(f"weights: {m['weights']}")
        missing = "" if m["installed"] else f"  (needs architecture '{m['arch']}': not installed)"
        click.echo(f"  {m['name']:<28} {'; '.join(notes)}{missing}".rstrip())


def _analyzer_record(name: str) -> dict[str, Any]:
    """An analyzer's needs and parameters, as `zoo list` shows them (its module stays torch-free)."""
    from .analysis import get_analyzer

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

    from .registry import create_model

    with torch.device("meta"):
        model = create_model(config)
    return {"recurrent": model.num_parameters(recurrent_only=True), "total": model.num_parameters()}


def _complete_names(ctx, param, incomplete: str) -> list:
    """Shell completion of --model for training: the registry's model names."""
    from .registry import registry

    return [name for name in registry().models if name.startswith(incomplete)]


def _complete_models(ctx, param, incomplete: str) -> list:
    """Shell completion of a model to load: registry names with weights (for `zoo info`, every
    name), then directories."""
    from click.shell_completion import CompletionItem

    from .registry import registry

    named = [name for name, spec in registry().models.items()
             if (spec.bundled or spec.hub or ctx.command.name == "info") and name.startswith(incomplete)]
    return [*map(CompletionItem, named), CompletionItem(incomplete, type="dir")]


def _complete_analyzers(ctx, param, incomplete: str) -> list:
    """Shell completion of --analyzer: installed analyzer names (or all), after any commas."""
    from .plugins import plugins

    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + name for name in [*plugins().names("analyzer"), *([] if done else ["all"])] if name.startswith(last)]


@cli.command()
@click.argument("name", shell_complete=_complete_models)
@click.option("--vocab-size", type=click.IntRange(min=1), help=f"Vocabulary size for the parameter count (default: the model's, else {NOMINAL_VOCAB}).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(name: str, vocab_size: int | None, as_json: bool) -> None:
    """Show a model's specification and parameter count.

    NAME is a model name (lstm-3x512, gru-2x149.warpeace), a checkpoint, run or baseline
    directory, or a Hub checkpoint (hf:org/name@revision, pulled on first use).
    """
    from .config import ModelConfig
    from .hub import parse_spec, published_analyses
    from .registry import architecture, resolve

    if parse_spec(name):
        name = str(_checkpoint_path(name, announce=not as_json))
    if Path(name).is_dir():
        from .checkpoint import read_config

        saved = read_config(name)
        data: dict[str, Any] = {"checkpoint": str(Path(name).resolve()), **{k: v for k, v in saved.items() if k != "model"}}
        if "words" in data:  # an autocomplete model's 16k words: their number, not the list
            data["words"] = len(data["words"])
        if "baseline" in saved:  # a fitted n-gram or n-NN: its plugin's settings, no architecture
            return _baseline_info(data, as_json)
        config = ModelConfig.from_dict(saved["model"])
        data["weights"] = _weights_check(name)
        published = published_analyses(name)
        if published:
            data["analyses"] = published
    else:
        spec = resolve(name)
        config = spec.config(vocab_size or spec.vocab_size or NOMINAL_VOCAB)
        data = {"name": spec.name, "registered": spec.registered, **{k: v for k, v in spec.to_dict().items() if k not in ("name", "registered")}}
    from .plugins import blame, plugins

    cls = architecture(config.arch)
    with blame("architecture", config.arch):  # as create_model: the lookup's errors are zoo's, the call's the plugin's
        config = cls.resolve_config(config)
    data["config"] = config.to_dict()

    data["plugin"] = plugins().provider("architecture", config.arch)
    data["parameters"] = _parameter_counts(config)
    if as_json:
        _emit_json(data)
        return
    title = data.get("name") or data["checkpoint"]
    if data.get("registered", True):
        note = ""
    else:
        note = "  (the shape of the registered variants below)" if data.get("variants") else "  (not in the registry: an ad-hoc shape)"
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
    from .checkpoint import load_checkpoint

    try:
        load_checkpoint(directory)
    except ZooError as exc:
        return f"refused: {exc}"
    return "verified: they match config.json's sha256 and the model's shapes"


def _baseline_info(data: dict[str, Any], as_json: bool) -> None:
    """`zoo info` on a fitted baseline's directory."""
    from .plugins import plugins

    baseline = data["baseline"]
    data["plugin"] = plugins().provider("baseline", baseline["name"])
    if as_json:
        _emit_json(data)
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
        click.echo(f"  {'plugin':<12} {where['entry_point']} ({where['distribution'] or 'in-process'} {where['version'] or ''})".rstrip())
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


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: version, hooks, what each registers, and what is wrong with it.

    \b
    Under ZOO_STRICT_PLUGINS=1 the list is printed first, then the command fails if any plugin
    has a problem. ZOO_PLUGIN_TRACEBACK=1 adds the traceback of a plugin that failed.
    """
    import warnings as _warnings

    from .plugins import Plugins

    with _warnings.catch_warnings():  # the problems are shown below, once
        _warnings.simplefilter("ignore")
        found = Plugins(strict=False)  # diagnose everything, even where strict mode would stop
    rows = [info.to_dict() for info in found.info.values()]
    strict = os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")
    if as_json:
        _emit_json({"plugins": rows, "problems": found.problems})
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


def _checkpoint_path(spec: str, announce: bool = True, analyses: bool = False) -> Path:
    """The directory behind a --model value: a checkpoint or run directory as given; a Hub
    checkpoint, ``hf:org/name@revision``; or a registry name's weights (shipped with the zoo, or
    pinned on the Hub). Hub checkpoints are pulled into the Hugging Face cache on first use."""
    from . import hub
    from .registry import bundled_checkpoint, resolve

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


def _load_model(spec: str, device: str = "auto"):
    """``(model, its checkpoint directory)`` for a --model value (see `_checkpoint_path`),
    resolved once: a Hub checkpoint is looked up and verified a single time. Every command that
    loads a model reads text with it, so a checkpoint saved without a vocabulary is refused here."""
    from .checkpoint import checkpoint_dir, load_checkpoint
    from .train import pick_device

    path = checkpoint_dir(_checkpoint_path(spec))
    model = load_checkpoint(path)
    if getattr(model, "vocab", None) is None:
        raise ZooError(f"{path} has no vocabulary: it cannot read text")
    return (model.to(pick_device(device)) if hasattr(model, "to") else model), path


def _labelled(specs: list[str]) -> list[tuple[str, str]]:
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


def _trained_corpus(saved: dict[str, Any], data, line_endings, fractions, progress: bool):
    """The corpus a model is evaluated or analysed on: --data, else the one it was trained on
    (refused if that file has changed since)."""
    from .data import load_corpus

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


def _recipe_options(func):
    """The training recipe as command-line options. Defaults: Karpathy et al. 2015's, or with
    --task autocomplete Madsen 2019's (shown after the slash)."""
    from .recipe import Recipe

    paper, distill = Recipe(), Recipe.autocomplete()

    def default(name: str) -> str:
        a, b = getattr(paper, name), getattr(distill, name)
        return f"[default: {a}" + (f"; autocomplete: {b}]" if a != b else "]")

    options = [
        click.option("--epochs", "max_epochs", type=click.IntRange(min=1), help=f"Most epochs to train. {default('max_epochs')}"),
        click.option("--patience", type=click.IntRange(min=0), help=f"Stop after this many epochs without a better validation loss (0: never). {default('patience')}"),
        click.option("--batch-size", type=click.IntRange(min=1), help=f"Parallel streams (autocomplete: observations) per step. {default('batch_size')}"),
        click.option("--seq-length", type=click.IntRange(min=1), help=f"Steps of truncated backpropagation through time (autocomplete: the longest observation). {default('seq_length')}"),
        click.option("--optimizer", type=click.Choice(["rmsprop", "adam"]), help=default("optimizer")),
        click.option("--lr", type=float, help=f"Learning rate. {default('lr')}"),
        click.option("--lr-decay", type=float, help=f"Multiply the rate by this each epoch after --lr-decay-after. {default('lr_decay')}"),
        click.option("--lr-decay-after", type=click.IntRange(min=0), help=default("lr_decay_after")),
        click.option("--init-scale", type=float, help=f"Uniform initialization range. {default('init_scale')}"),
        click.option("--forget-bias", type=float, help=f"Added to every forget gate's starting bias (1: TensorFlow's LSTM cells). {default('forget_bias')}"),
        click.option("--clip", type=click.Choice(["value", "norm", "none"]), help=f"Clip each gradient element (char-rnn) or the global norm. {default('clip')}"),
        click.option("--clip-value", type=float, help=default("clip_value")),
        click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), help=default("dropout")),
        click.option("--seed", type=int, help=default("seed")),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _data_options(func):
    for option in reversed([
        click.option("--data", required=True, help="A dataset name (sample, warpeace, tinyshakespeare, text8) or a UTF-8 text file."),
        click.option("--line-endings", type=click.Choice(["lf", "crlf", "keep"]), default="lf", show_default=True, help="crlf reproduces the paper's files."),
        click.option("--split", help="Train,validation,test fractions, e.g. 0.9,0.05,0.05 (default: the dataset's, else 0.8,0.1,0.1)."),
    ]):
        func = option(func)
    return func


@cli.command()
@click.option("--model", "model_name", required=True, shell_complete=_complete_names,
              help="Model name, e.g. lstm-2x128 or gru-2x149.warpeace.")
@_data_options
@click.option("--out", type=click.Path(file_okay=False), help="Run directory (default: runs/<model>.<data>).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last finished epoch.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--input", "input_kind", type=click.Choice(["onehot", "embedding"]), help="Input vectors (default: the registry entry's, else onehot).")
@click.option("--embed-dim", type=click.IntRange(min=1), help="Embedding width with --input embedding (default: the hidden size).")
@click.option("--bias", type=click.Choice(["single", "double"]), help="One bias per gate block (the paper's counts) or two (torch's layout).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="An architecture option, e.g. --set depth=3 for nlstm (repeatable; `zoo info` lists them).")
@click.option("--snapshot-every", type=click.IntRange(min=0), default=0, help="Also keep the model every N optimizer steps in steps/ (for the training-kl analysis of the first epochs).")
@click.option("--task", type=click.Choice(TASKS), help="next-char: a character language model (the paper); autocomplete: predict the "
              "word being typed (Madsen 2019, on the text normalized as text8). Default: the registry entry's, else next-char.")
@click.option("--words", type=click.IntRange(min=1), help="Autocomplete: the most frequent training words the head scores (default: the model's classes less padding and unknown, else 16384).")
@_recipe_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON at the end.")
def train(model_name, data, line_endings, split, out, resume, device, input_kind, embed_dim, bias, settings,
          snapshot_every, task, words, quiet, as_json, **recipe_fields) -> None:
    """Train a model with the paper's recipe (or Madsen 2019's for --task autocomplete);
    checkpoint every epoch.

    \b
    zoo train --model lstm-3x512 --data warpeace --line-endings crlf
    zoo train --model gru-2x600.text8 --task autocomplete --data text8
    Interrupted runs continue with --resume and give the same weights as an uninterrupted run.
    Data-parallel on several processes: torchrun --nproc_per_node 2 -m zoo train ...
    """
    import dataclasses

    from .data import load_corpus
    from .recipe import Recipe
    from .registry import resolve
    from .train import read_run, saved_recipe, train as run_training, train_autocomplete

    overrides: dict[str, Any] = {k: v for k, v in (("input", input_kind), ("embed_dim", embed_dim), ("bias", bias)) if v}
    if settings:
        overrides["options"] = _key_values(settings)
    if resume and overrides:
        raise ZooError("--resume continues a run as it was configured: drop --input, --embed-dim, --bias and --set")
    try:
        named = resolve(model_name)
    except ZooError:
        if Path(model_name).is_dir() or model_name.startswith("hf:"):  # a checkpoint where a model name belongs
            raise ZooError("--model takes a model name to train from scratch (lstm-2x128, gru-2x149.warpeace), not a "
                           "checkpoint; to continue a run, pass its folder as --out with --resume") from None
        raise
    # A resumed run keeps its own task and recipe (a default changed since does not apply to it);
    # a new one takes the task's defaults. The flags given override the recipe, and resuming
    # checks them.
    saved = saved_recipe(out) if resume and out else None
    if saved and task and task != saved[1]:
        raise ZooError(f"{out} trains for --task {saved[1]}, not {task}: --resume continues a run as it was begun")
    task = task or (saved[1] if saved else named.task)
    if task == "autocomplete" and snapshot_every:
        raise ZooError("--snapshot-every is for next-char training")
    if task != "autocomplete" and words:
        raise ZooError("--words is for --task autocomplete")
    if task == "autocomplete" and not split:
        split = "0.9,0.05,0.05"  # the article's, whatever the dataset's own split
    corpus = load_corpus(data, line_endings=line_endings, split=split, progress=not quiet)
    out = out or f"runs/{model_name.split('.')[0]}.{corpus.name.removesuffix('.txt')}" + (".autocomplete" if task == "autocomplete" else "")
    given = {k: v for k, v in recipe_fields.items() if v is not None}
    saved = saved or (saved_recipe(out) if resume else None)
    base = saved[0] if saved else dataclasses.asdict(Recipe.autocomplete() if task == "autocomplete" else Recipe())
    recipe = Recipe(**{**base, **given})
    log = (lambda line: None) if as_json else (lambda line: click.echo(line, err=True))
    try:
        if task == "autocomplete":
            result = train_autocomplete(model_name, corpus, recipe, out, resume=resume, device=device, progress=not quiet,
                                        log=log, overrides=overrides, words=words)
        else:
            result = run_training(model_name, corpus, recipe, out, resume=resume, device=device, progress=not quiet,
                                  log=log, overrides=overrides, snapshot_every=snapshot_every)
    except KeyboardInterrupt:  # Ctrl-C: say what was kept and how to go on
        kept = (read_run(out) or {}).get("history") or []
        if kept and os.environ.get("RANK", "0") == "0":
            how = "run the same command again" if resume else "add --resume to the same command"
            raise ZooInterrupted(f"interrupted; {out} keeps its {len(kept)} finished epoch(s): {how} to continue") from None
        raise
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun, rank 0 reports
    summary = {"run": str(result.run), "epochs": result.epochs, "best_epoch": result.best_epoch,
               "best_valid_nats": result.best_valid_nats, "stopped_early": result.stopped_early}
    if as_json:
        _emit_json({**summary, "history": result.history})
    else:
        unit = "nats per scored character" if task == "autocomplete" else "nats/char"
        click.echo(f"run {result.run}: best validation {result.best_valid_nats:.4f} {unit} at epoch {result.best_epoch}")


@cli.group()
def baseline() -> None:
    """Fit the paper's baselines (n-gram, n-NN) and other registered baselines."""


@baseline.command("fit")
@click.argument("name")
@click.option("--order", type=int, required=True, help="n: the characters of context (ngram: a (n+1)-gram).")
@_data_options
@click.option("--out", type=click.Path(file_okay=False), help="Directory for the fitted model (default: runs/<name>-<order>.<data>).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="A baseline-specific option, e.g. --set memory=8G (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress output.")
def baseline_fit(name, order, data, line_endings, split, out, settings, quiet) -> None:
    """Fit baseline NAME (see `zoo list`) on the training split of --data.

    \b
    zoo baseline fit ngram --order 9 --data warpeace     # modified Kneser-Ney 10-gram (KenLM)
    zoo eval --model runs/ngram-9.warpeace               # test cross-entropy, as for any model
    """
    from .data import encoded_splits, load_corpus
    from .plugins import plugins

    cls = plugins().get("baseline", name).load()
    options = _key_values(settings)
    corpus = load_corpus(data, line_endings=line_endings, split=split, progress=not quiet)
    out = Path(out or f"runs/{name}-{order}.{corpus.name.removesuffix('.txt')}")
    if (out / "config.json").exists():
        raise ZooError(f"{out} already holds a model: choose another --out")
    if out.is_dir() and any(out.iterdir()):  # the fit writes its files there: never beside a user's
        raise ZooError(f"{out} holds other files: choose a new or empty --out")
    from .fileio import folder_for

    vocab, ids, valid_ids, _ = encoded_splits(corpus)
    with folder_for(out):  # made here: a path that cannot be made is the user's to fix, not the plugin's failure
        cls.fit(ids, vocab, order=order, directory=out, sections={"dataset": corpus.describe()},
                valid_ids=valid_ids, progress=not quiet, **options)
    click.echo(f"{name} (order {order}) fitted on {len(ids):,} characters of {corpus.name}: {out}", err=True)


def _key_values(settings: tuple[str, ...]) -> dict[str, Any]:
    """--set KEY=VALUE items as a dict, values read as YAML scalars."""
    options: dict[str, Any] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ZooError(f"--set takes KEY=VALUE, got {item!r}")
        options[key] = yaml_scalar(value)
    return options


def yaml_scalar(text: str) -> Any:
    """`--set` values: numbers and booleans as YAML reads them, anything else as text."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool)) else text


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--repo-id", required=True, help="The Hub repository, e.g. alice/lstm-3x512-warpeace (created if needed).")
@click.option("--dry-run", is_flag=True, help="Show what would be published (files, checksums, the card) and stop.")
@click.option("--to-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write the files into DIR instead of uploading: a Hub-ready folder (publish it, card as it is, with `zoo push DIR` or `hf upload`) "
                   "that also loads as a checkpoint.")
@click.option("--overwrite-card", is_flag=True, help="Replace the repository's (or DIR's) README.md if it has one.")
@click.option("--private", is_flag=True, help="Create the repository private.")
@click.option("--license", "license_", default="mit", show_default=True, help="The card's license field.")
@click.option("--reproduces", "model_name", metavar="NAME",
              help="The registry model whose published figure the card cites (default: the model the run trained).")
@click.option("--reports", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="Publish these analyses too (reports/<model>, or one report folder): each report's numbers and "
                   "figures under analyses/, shown in the card. They must have been made from these weights.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def push(directory, repo_id, dry_run, to_dir, overwrite_card, private, license_, model_name, reports, as_json) -> None:
    """Publish a checkpoint (a run directory: its best epoch) on the Hugging Face Hub.

    \b
    Uploads model.safetensors, config.json (without local paths or optimizer state) and a model
    card README.md (with --reports, the analyses too) in one commit, and prints the commit to
    pin: `zoo pull REPO@COMMIT`. The token comes from the usual places (`hf auth login`,
    HF_TOKEN) and is never printed. A Hub-ready folder (--to-dir) publishes its own card, edits
    included.
    """
    from . import hub

    if dry_run and to_dir:
        raise click.UsageError("--dry-run shows the files and --to-dir writes them: choose one")
    upload = hub.prepare(directory, repo_id, license_, model_name, reports=reports)
    if to_dir:
        written = hub.save(upload, to_dir, overwrite_card=overwrite_card)
        if as_json:
            _emit_json({"repo_id": repo_id, "directory": str(Path(to_dir).resolve()), "written": written,
                        "files": upload.describe()})
        else:
            click.echo(f"wrote {', '.join(written)} to {to_dir}; publish them with `zoo push {to_dir} --repo-id {repo_id}`")
        return
    if dry_run:
        if as_json:
            _emit_json({"repo_id": repo_id, "files": upload.describe(), "card": upload.card})
            return
        width = max(len(row["path"]) for row in upload.describe())
        for row in upload.describe():
            click.echo(f"{row['path']:<{width}} {row['bytes']:>10,} bytes  sha256 {row['sha256']}")
        click.echo("\n" + upload.card)
        return
    commit, files = hub.push(upload, repo_id, private=private, overwrite_card=overwrite_card)
    if as_json:
        _emit_json({"repo_id": repo_id, "commit": commit, "files": files})
    else:
        click.echo(f"pushed {', '.join(files)} to {repo_id} at commit {commit}; pin it: hf:{repo_id}@{commit}")


@cli.command()
@click.argument("spec")
@click.option("--analyses", "with_analyses", is_flag=True,
              help="Also fetch the analyses published with the weights (analyses/<analyzer>/: report.json and figures).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON for scripts: the path, the commit, the weights' sha256, the analyses at hand.")
def pull(spec, with_analyses, as_json) -> None:
    """Download a checkpoint into the Hugging Face cache, verify it, and print where it is.

    SPEC is org/name@revision (or hf:org/name@revision), or a registry name whose entry pins one.
    With HF_HUB_OFFLINE=1 only what is cached is used.
    """
    from . import hub
    from .checkpoint import read_config
    from .registry import resolve

    if not spec.startswith("hf:") and "/" in spec:
        spec = "hf:" + spec
    elif not spec.startswith("hf:"):
        try:
            resolve(spec)
        except ZooError as exc:  # neither a registry name nor a repository: say how to write both
            raise ZooError(f"{exc}; a Hub repository is pulled as ORG/NAME@REVISION") from None
    path = _checkpoint_path(spec, announce=False, analyses=with_analyses)
    published = hub.published_analyses(path)
    if not as_json:
        click.echo(path)  # alone on stdout: `$(zoo pull ...)` is the folder
        if with_analyses:
            click.echo(f"analyses: {', '.join(published)} (in {path / 'analyses'})" if published
                       else f"note: {spec} has no analyses published with its weights", err=True)
        return
    # the cache keeps a pinned download under snapshots/<commit>; a shipped checkpoint has no commit
    commit = path.name if path.parent.name == "snapshots" else None
    _emit_json({"spec": spec, "path": str(path), "commit": commit,
                "weights_sha256": read_config(path).get("weights_sha256"), "analyses": published})


def _is_file(name: str) -> bool:
    """Whether `name` names a file here; text too long to be a file's name is not one."""
    try:
        return Path(name).is_file()
    except OSError:  # ENAMETOOLONG and the like
        return False


@cli.command("eval")
@click.option("--model", "model_spec", required=True, shell_complete=_complete_models, help="A checkpoint or run directory, hf:org/name@revision, or a registry name with weights.")
@click.option("--data", help="Dataset name or text file (default: the one the model was trained on).")
@click.option("--line-endings", type=click.Choice(["lf", "crlf", "keep"]), help="Default: as in training.")
@click.option("--split", "fractions", help="Train,validation,test fractions (default: as in training).")
@click.option("--on", "part", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True, help="Which split to score.")
@click.option("--resamples", type=click.IntRange(min=0), default=100, show_default=True, help="Bootstrap resamples for the standard error.")
@click.option("--block", type=click.IntRange(min=1), default=1, show_default=True,
              help="Characters per bootstrap draw: 1 draws each on its own (the paper); more draw runs of that many, "
                   "which allows for the dependence between neighbouring characters.")
@click.option("--reference", "references", multiple=True, shell_complete=_complete_models,
              help="Another model (checkpoint, run or baseline directory; NAME=MODEL names it) scored on the same "
                   "characters, with its difference to the model and that difference's paired bootstrap error; repeatable.")
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def eval_cmd(model_spec, data, line_endings, fractions, part, resamples, block, references, device, as_json) -> None:
    """Cross-entropy of a model on a split, in nats and bits per character, with a bootstrap error.

    The whole split is read as one sequence with the state carried. For an autocomplete model:
    the word-level cross-entropy and accuracy over its split's observations, padding and unknown
    words not scored (Madsen 2019). The figure is also written into the checkpoint's config.json
    (metrics), unless the checkpoint is a download in the Hugging Face cache or ships with the zoo.

    \b
    zoo eval --model runs/lstm-3x128.warpeace --reference runs/gru-3x149.warpeace --reference runs/ngram-20.warpeace

    With --reference, each other model reads the same characters in its own vocabulary, and the
    difference (reference minus model, in nats/char) gets the standard error of a paired
    bootstrap: the same resampled characters for both, tighter than the two errors taken apart
    when, as usual, both models find the same characters hard. Autocomplete models are compared
    the same way (top-1 accuracy too) when they know the same words.
    """
    import torch

    from .checkpoint import is_shared, read_config, update_config
    from .evaluate import char_losses, summarize

    model, path = _load_model(model_spec, device)
    saved = read_config(path)
    others = {label: _load_model(ref, device)[0] for label, ref in _labelled([model_spec, *references])[1:]}
    for label, other in others.items():  # each must score the model's very characters
        if _is_autocomplete(other) != _is_autocomplete(model):
            raise ZooError(f"--reference {label}: one of the two predicts words, the other characters; they score "
                           "different things")
        if _is_autocomplete(model) and other.words != model.words:
            raise ZooError(f"--reference {label} knows other words than the model, so it scores other characters "
                           "(an unknown word is not scored): compare autocomplete models trained with the same --words on "
                           "the same text")
    corpus = _trained_corpus(saved, data, line_endings, fractions, progress=not as_json)
    if _is_autocomplete(model):
        from . import autocomplete as ac

        encoded = ac.encode(ac.rebuild(corpus, model.words, saved).part(part), model.words)
        found = ac.predictions(model, encoded, progress=not as_json)
        words = ac.summarize(found)
        result = {"model": model_spec, "data": corpus.name, "split": part, "task": "autocomplete", **words,
                  **{k: v for k, v in summarize(found["loss"], resamples, block=block).items() if k.startswith(("se_", "boot"))}}
        metrics = {f"{part}_nats": result["nats"], f"{part}_accuracy": result["accuracy"]}
        theirs = {label: ac.predictions(other, encoded, progress=not as_json) for label, other in others.items()}
    else:
        text = dict(zip(("train", "valid", "test"), corpus.splits()))[part]
        found = {"loss": char_losses(model, torch.from_numpy(model.vocab.encode(text)))}
        result = {"model": model_spec, "data": corpus.name, "split": part, **summarize(found["loss"], resamples, block=block),
                  "unknown_characters": model.vocab.unknown_count(text)}
        metrics = {f"{part}_nats": result["nats"], f"{part}_se_nats": result["se_nats"],
                   f"{part}_se_block": block}  # what the error was drawn from (runs of this many characters)
        theirs = {label: {"loss": char_losses(other, torch.from_numpy(other.vocab.encode(text))),  # its own vocabulary
                          "unknown_characters": other.vocab.unknown_count(text)} for label, other in others.items()}
    if others:
        result["references"] = [_compared(label, found, theirs[label], resamples, block) for label in others]
    if Path(model_spec).is_dir() and not is_shared(path):  # never into the Hub cache or the zoo package
        try:
            update_config(path, metrics={**metrics, f"{part}_data_sha256": corpus.sha256})
            result["checkpoint"] = str(path)
        except OSError as exc:  # a read-only folder: the figures are still printed
            warnings.warn(f"the figures were not recorded in {path / 'config.json'}: {exc.strerror or exc}")
    runs = f" (errors from runs of {block:,} characters)" if block > 1 and resamples > 1 else ""
    if as_json:
        _emit_json(result)
    elif result.get("task") == "autocomplete":
        click.echo(f"{part} word-level cross-entropy on autocomplete/{corpus.name} ({result['scored_characters']:,} scored "
                   f"characters): {result['nats']:.4f}{_pm(result['se_nats'])} nats; accuracy {result['accuracy']:.2%}, "
                   f"top-2 {result['top2']:.2%}, top-3 {result['top3']:.2%}{runs}")
    else:
        click.echo(f"{part} cross-entropy on {corpus.name} ({result['characters']:,} characters): "
                   f"{result['nats']:.4f}{_pm(result['se_nats'])} nats/char, "
                   f"{result['bits']:.4f}{_pm(result['se_bits'])} bits/char{runs}")
        unknown = result["unknown_characters"]
        if unknown:
            verbs = ("is", "was") if unknown == 1 else ("are", "were")
            click.echo(f"note: {unknown:,} of them {verbs[0]} not in the model's vocabulary and {verbs[1]} "
                       f"scored as its unknown-character stand-in {model.vocab.unk!r}", err=True)
    if not as_json and result.get("references"):
        width = max(len(row["model"]) for row in result["references"])
        unit = "nats" if "accuracy" in result else "nats/char"
        click.echo("on the same characters (difference: reference minus model, paired bootstrap error):")
        for row in result["references"]:
            line = (f"  {row['model']:<{width}}  {row['nats']:.4f}{_pm(row['se_nats'])} {unit}  "
                    f"difference {row['difference_nats']:+.4f}{_pm(row['difference_se_nats'])}")
            if "accuracy" in row:
                se = row["accuracy_difference_se"]
                line += (f";  accuracy {row['accuracy']:.2%}  difference {100 * row['accuracy_difference']:+.2f}"
                         + ("" if se is None else f" ± {100 * se:.2f}") + " points")
            elif row["unknown_characters"]:
                line += f"  ({row['unknown_characters']:,} characters unknown to it)"
            click.echo(line)


def _compared(label: str, own: dict[str, Any], theirs: dict[str, Any], resamples: int, block: int) -> dict[str, Any]:
    """A reference's scores on the model's characters (`theirs`: per-character losses and, for a
    word model, ranks) and their differences to the model's (`own`), reference minus model, each
    with the error of a paired bootstrap (one seed: the same resampled characters)."""
    from .evaluate import bootstrap_se, summarize

    row = {"model": label, **{k: v for k, v in summarize(theirs["loss"], resamples, block=block).items()
                              if k in ("nats", "se_nats", "bits")}}
    difference = theirs["loss"] - own["loss"]
    row.update(difference_nats=float(difference.mean()), difference_se_nats=bootstrap_se(difference, resamples, block=block))
    if "rank" in own:  # a word model: top-1 accuracy too
        hits = (theirs["rank"] == 1).astype(float) - (own["rank"] == 1)
        row.update(accuracy=float((theirs["rank"] == 1).mean()), accuracy_difference=float(hits.mean()),
                   accuracy_difference_se=bootstrap_se(hits, resamples, block=block))
    else:
        row["unknown_characters"] = theirs["unknown_characters"]
    return row


def _pm(se: float | None) -> str:
    """`` ± se``, or nothing when no bootstrap ran (--resamples 0 or 1)."""
    return "" if se is None else f" ± {se:.4f}"


def _is_autocomplete(model) -> bool:
    return getattr(getattr(model, "config", None), "task", None) == "autocomplete"


@cli.command()
@click.option("--model", "model_spec", required=True, shell_complete=_complete_models, help="An autocomplete model: a checkpoint or run directory, hf:org/name@revision, or a registry name with weights.")
@click.argument("text")
@click.option("-n", "--count", type=click.IntRange(min=1), default=5, show_default=True, help="Suggestions to show.")
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def autocomplete(model_spec, text, count, device, as_json) -> None:
    """Suggest the word being typed at the end of TEXT (the next word, if TEXT ends with a space),
    as Madsen 2019's first figure.

    \b
    zoo autocomplete --model runs/gru-2x600.text8.autocomplete "the capital of fra"

    TEXT is normalized as the model's training text was (lower case a-z, digits spelled out).
    """
    from .autocomplete import MAX_LENGTH, suggest
    from .checkpoint import read_config

    model, path = _load_model(model_spec, device)
    built = (read_config(path).get("dataset") or {}).get("autocomplete") or {}
    found = suggest(model, text, count, max_length=built.get("max_length", MAX_LENGTH))
    if as_json:
        _emit_json({"text": text, "suggestions": [{"word": w, "probability": p} for w, p in found]})
        return
    for word, p in found:
        click.echo(f"{p:7.2%}  {word}")


@cli.command()
@click.option("--model", "model_spec", required=True, shell_complete=_complete_models, help="A checkpoint or run directory, hf:org/name@revision, or a registry name with weights.")
@click.option("--prime", default="", help="Text to start from.")
@click.option("-n", "--length", type=click.IntRange(min=0), default=500, show_default=True, help="Characters to generate.")
@click.option("--temperature", type=click.FloatRange(min=0), default=1.0, show_default=True, help="Below 1: safer; 0: always the most likely character.")
@click.option("--seed", type=int, help="For reproducible samples.")
@click.option("--device", default="auto", show_default=True)
def sample(model_spec, prime, length, temperature, seed, device) -> None:
    """Generate text from a trained model, or from a fitted baseline (n-gram, n-NN)."""
    from .sample import sample as generate

    model, _ = _load_model(model_spec, device)
    unknown = model.vocab.unknown_count(prime)
    if unknown:  # read as the unknown stand-in: the model never saw them
        click.echo(f"note: {unknown:,} character(s) of --prime are not in the model's vocabulary and are read as "
                   f"its unknown-character stand-in {model.vocab.unk!r}", err=True)
    click.echo(prime + generate(model, prime, length, temperature, seed))


def _analyzer_help() -> str:
    """Every installed analyzer with its parameters, for `zoo analyze --help`."""
    from .plugins import plugins

    lines = []
    for name in plugins().names("analyzer"):
        record = _analyzer_record(name)
        if "error" in record:
            lines.append(f"{name}: unavailable ({record['error']})")
            continue
        lines.append(f"{name}: {record['summary']}  [needs: {', '.join(sorted(record['requires'] + record['needs']))}]")
        lines += [f"    {key}={param['default']}: {param['doc']}" for key, param in record["params"].items()]
    return "\n".join(lines) or "(no analyzers installed)"


class _AnalyzeCommand(click.Command):
    def format_epilog(self, ctx, formatter) -> None:
        with formatter.section("Analyzers and their parameters (--set KEY=VALUE)"):
            formatter.write_text("\b\n" + _analyzer_help())


def _split_settings(settings: tuple[str, ...], runners: list) -> dict[str, dict[str, Any]]:
    """--set values by analyzer: KEY=VALUE goes to every selected analyzer that has KEY, and
    ANALYZER.KEY=VALUE to that one; a key none of them has is an error."""
    given: dict[str, dict[str, Any]] = {r.name: {} for r in runners}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ZooError(f"--set takes KEY=VALUE, got {item!r}")
        target, dot, short = key.rpartition(".")
        if dot and target not in given:
            raise ZooError(f"--set {item}: '{target}' is not among the selected analyzers ({', '.join(given)})")
        chosen = [r for r in runners if (r.name == target if dot else short in r.params)]
        if not chosen:
            known = "; ".join(f"{r.name}: {', '.join(r.params) or 'none'}" for r in runners)
            raise ZooError(f"--set {item}: no selected analyzer has a parameter '{short}' ({known})")
        for runner in chosen:
            given[runner.name][short] = value
    return given


@cli.command(cls=_AnalyzeCommand)
@click.option("--model", "model_spec", shell_complete=_complete_models,
              help="A checkpoint or run directory, hf:org/name@revision, or a registry name with weights (lstm-2x128.sample ships with the zoo); "
                   "NAME=MODEL names it in the reports.")
@click.option("--models", "models_glob", help="Several models at once, e.g. 'runs/*.warpeace' (model-map): the checkpoint "
                                                 "and run directories it matches; the first is the model, the others its references.")
@click.option("--analyzer", "analyzer_names", required=True, shell_complete=_complete_analyzers,
              help="Analyzer name(s), comma-separated (listed below), or 'all': every analyzer that this model and "
                   "these inputs allow, the others named on stderr with what they lack.")
@click.option("--data", help="Dataset name or text file (default: the one the model was trained on).")
@click.option("--line-endings", type=click.Choice(["lf", "crlf", "keep"]), help="Default: as in training.")
@click.option("--split", "fractions", help="Train,validation,test fractions (default: as in training).")
@click.option("--on", "part", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True, help="Which split to analyse.")
@click.option("--text", help="Analyse this text, as written, instead of a split (a file goes to --data).")
@click.option("--max-chars", type=click.IntRange(min=2), help="Analyse only the first N characters of the split.")
@click.option("--reference", "references", multiple=True, shell_complete=_complete_models, help="A model to compare with (checkpoint, run or baseline directory; NAME=MODEL names it in the report); repeatable.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="An analyzer parameter (ANALYZER.KEY=VALUE for one analyzer); repeatable.")
@click.option("--cells", help="Cells for the cells analyzer to show, e.g. 2:46,2:13 (same as --set cells=...).")
@click.option("--out", type=click.Path(file_okay=False), help="Report directory (default: reports/<model>/<analyzer>, hf:org/name@rev as "
                                                              "hf-org-name@rev; with several analyzers, one subdirectory each).")
@click.option("--device", default="auto", show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print each analyzer's summary as JSON.")
def analyze(model_spec, models_glob, analyzer_names, data, line_endings, fractions, part, text, max_chars,
            references, settings, cells, out, device, quiet, as_json) -> None:
    """Analyse a model and write a report per analyzer: report.json, arrays.npz, PNG figures and
    one self-contained report.html. Beside them, index.html links every report of the model.

    \b
    zoo analyze --model lstm-2x128.sample --analyzer cells,saturation
    zoo analyze --model runs/lstm-3x512.warpeace --analyzer cells --cells 2:46,2:13
    zoo analyze --model runs/gru-2x149.warpeace --analyzer saturation --set right=0.95 --json
    zoo analyze --model runs/lstm-2x128.warpeace --analyzer all --reference runs/ngram-20.warpeace

    The model is analysed on its dataset's test split unless --on, --data or --text say otherwise.
    Everything is checked before any work starts: a model that lacks what an analyzer needs
    (an n-gram has no gates) is refused with one line, and nothing is written.
    """
    import torch

    from .analysis import AnalysisData, analyze as run_analysis, describe_model, get_analyzer
    from .checkpoint import read_config
    from .plugins import blame
    from .report import check_report_dir, write_index, write_report

    if bool(model_spec) == bool(models_glob):
        raise ZooError("give either --model or --models")
    if models_glob:
        import glob

        found = sorted(p for p in glob.glob(models_glob)  # checkpoint and run directories only
                       if (Path(p) / "config.json").is_file() or (Path(p) / "run.json").is_file())
        if not found:
            raise ZooError(f"--models {models_glob!r} matches no checkpoint or run directory")
        model_spec, references = found[0], (*found[1:], *references)
    (label, model_spec), *named_references = _labelled([model_spec, *references])
    names = [n.strip() for n in analyzer_names.split(",") if n.strip()]
    if not names:
        raise ZooError("--analyzer needs at least one analyzer name (see `zoo list`)")
    every = names == ["all"]
    if every:
        from .plugins import plugins

        names = plugins().names("analyzer")
    runners = [get_analyzer(n) for n in dict.fromkeys(names)]
    if cells:
        if not any(r.name == "cells" for r in runners):
            raise ZooError("--cells is for the cells analyzer: add it to --analyzer")
        settings = (*settings, f"cells.cells={cells}")
    given = _split_settings(settings, runners)
    resolved = {runner.name: runner.resolve_params(given[runner.name]) for runner in runners}  # bad values: refused now

    def applicable(runners: list, check) -> list:
        """`runners` that pass `check`; with 'all', the others are left out and said on stderr."""
        kept = []
        for runner in runners:
            try:
                check(runner)
                kept.append(runner)
            except ZooError as exc:
                if not every:
                    raise
                reason = str(exc).removeprefix(f"analyzer '{runner.name}' ")
                click.echo(f"zoo: skipped {runner.name}: {reason}", err=True)
        if not kept:
            raise ZooError("no analyzer applies to this model and these inputs")
        return kept

    model, path = _load_model(model_spec, device)
    saved = read_config(path)
    runners = applicable(runners, lambda runner: runner.check(model))
    refs = {name: _load_model(ref, device)[0] for name, ref in named_references}
    corpus = None if text is not None and not data else _trained_corpus(saved, data, line_endings, fractions, progress=not quiet)
    words = _is_autocomplete(model)
    if words:  # its texts are observations, one per line (zoo.autocomplete.as_text)
        from . import autocomplete as ac
    if corpus is None:
        parts = None
    elif words:
        built = ac.rebuild(corpus, model.words, saved)
        parts = {name: ac.as_text(built.part(name)) for name in ("train", "valid", "test")}
    else:
        parts = dict(zip(("train", "valid", "test"), corpus.splits()))
    train_text = parts["train"] if parts else None
    if text is not None:
        if "\n" not in text and _is_file(text):  # a file meant for --data, likely
            click.echo(f"note: --text analyses the {len(text)} characters given, not the file {text!r}: "
                       "to analyse the file, pass it with --data", err=True)
        text = ac.as_text(ac.from_text(text)) if words else text
        source = {"name": "text given with --text"}
    else:
        text = parts[part]
        source = {**{k: v for k, v in corpus.describe().items() if k in ("name", "sha256", "line_endings")}, "split": part}
    if max_chars:
        cut = text.rfind("\n", 0, max_chars + 1) if words else max_chars  # whole observations only
        text = text[:cut if cut > 0 else max_chars]
        source["max_chars"] = max_chars
    if not text.strip():
        raise ZooError("there is no text to analyse" + (" (an autocomplete model reads letters a-z)" if words else ""))
    analysed = AnalysisData(ids=torch.from_numpy(model.vocab.encode(text.replace("\n", " ") if words else text)),
                            text=text, vocab=model.vocab, train_text=train_text,
                            references=refs, source=source, progress=not quiet,
                            checkpoint=Path(model_spec) if Path(model_spec).is_dir() else path, label=label)
    # every analyzer's inputs before any of them runs: all or nothing is refused
    runners = applicable(runners, lambda runner: runner.check_inputs(model, analysed, resolved[runner.name]))
    meta = {"model": {**describe_model(model), "name": label, "checkpoint": str(path.resolve()),
                      "weights_sha256": saved.get("weights_sha256")}}
    folder = re.sub(r"[^\w.@+-]+", "-", label).strip("-")  # hf:org/name@rev: one folder, no colon
    one_folder_each = not out or len(runners) > 1 or every  # then an index page lists them, beside them
    home = Path(out or Path("reports") / folder)
    targets = {runner.name: home / runner.name if one_folder_each else home for runner in runners}
    for target in targets.values():  # before any work: a folder that cannot take its report
        check_report_dir(target)
    results = {}
    try:
        for runner in runners:
            target = targets[runner.name]
            with blame("analyzer", runner.name):
                report = run_analysis(model, runner, analysed, meta=meta, **given[runner.name])
                write_report(report, target, runner.template)
            results[runner.name] = {"report": str(target / "report.html"), "summary": report.summary}
            if not as_json:
                click.echo(f"{runner.name}: {target / 'report.html'}")
    except BaseException:  # a later analyzer failed or was interrupted: the index lists the reports written
        if one_folder_each and results:
            with contextlib.suppress(ZooError):
                write_index(home)
        raise
    if one_folder_each:
        index = write_index(home)
        if index is None:
            click.echo(f"zoo: note: {home / 'index.html'} is not a zoo index page: left as it is", err=True)
        elif not as_json:
            click.echo(f"all reports of this model: {index}")
    if as_json:
        from .report import jsonable

        _emit_json(jsonable(results))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ZooError -> one line on stderr, exit 1."""
    warnings.showwarning = _show_warning
    try:
        cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except ZooInterrupted as exc:
        click.echo(f"zoo: {exc}", err=True)
        sys.exit(130)
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
    except Exception as exc:  # still one line: which plugin, out of memory, the system, or our bug
        from .plugins import explain

        click.echo(f"zoo: error: {explain(exc)}", err=True)
        sys.exit(1)
