"""`zoo train` and `zoo baseline fit`: the training recipe and the data as options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..config import TASKS
from ..errors import ZooError
from .common import ZooInterrupted, emit_json


def _complete_names(ctx, param, incomplete: str) -> list:
    """Shell completion of --model for training: the registry's model names."""
    from ..registry import registry

    return [name for name in registry().models if name.startswith(incomplete)]


def _recipe_options(func):
    """The training recipe as command-line options. Defaults: Karpathy et al. 2015's, or with
    --task autocomplete Madsen 2019's (shown after the slash)."""
    from ..recipe import Recipe

    paper, distill = Recipe(), Recipe.autocomplete()

    def default(name: str) -> str:
        a, b = getattr(paper, name), getattr(distill, name)
        return f"[default: {a}" + (f"; autocomplete: {b}]" if a != b else "]")

    options = [
        click.option("--epochs", "max_epochs", type=click.IntRange(min=1),
                     help=f"Most epochs to train. {default('max_epochs')}"),
        click.option("--patience", type=click.IntRange(min=0),
                     help="Stop after this many epochs without a better validation loss (0: never). "
                          f"{default('patience')}"),
        click.option("--batch-size", type=click.IntRange(min=1),
                     help=f"Parallel streams (autocomplete: observations) per step. {default('batch_size')}"),
        click.option("--seq-length", type=click.IntRange(min=1),
                     help="Steps of truncated backpropagation through time (autocomplete: the longest observation). "
                          f"{default('seq_length')}"),
        click.option("--optimizer", type=click.Choice(["rmsprop", "adam"]), help=default("optimizer")),
        click.option("--lr", type=float, help=f"Learning rate. {default('lr')}"),
        click.option("--lr-decay", type=float,
                     help=f"Multiply the rate by this each epoch after --lr-decay-after. {default('lr_decay')}"),
        click.option("--lr-decay-after", type=click.IntRange(min=0), help=default("lr_decay_after")),
        click.option("--init-scale", type=float, help=f"Uniform initialization range. {default('init_scale')}"),
        click.option("--forget-bias", type=float,
                     help="Added to every forget gate's starting bias (1: TensorFlow's LSTM cells). "
                          f"{default('forget_bias')}"),
        click.option("--clip", type=click.Choice(["value", "norm", "none"]),
                     help=f"Clip each gradient element (char-rnn) or the global norm. {default('clip')}"),
        click.option("--clip-value", type=float, help=default("clip_value")),
        click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), help=default("dropout")),
        click.option("--seed", type=int, help=default("seed")),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _data_options(func):
    for option in reversed([
        click.option("--data", required=True,
                     help="A dataset name (sample, warpeace, tinyshakespeare, text8) or a UTF-8 text file."),
        click.option("--line-endings", type=click.Choice(["lf", "crlf", "keep"]), default="lf", show_default=True,
                     help="crlf reproduces the paper's files."),
        click.option("--split",
                     help="Train,validation,test fractions, e.g. 0.9,0.05,0.05 "
                          "(default: the dataset's, else 0.8,0.1,0.1)."),
    ]):
        func = option(func)
    return func


@click.command()
@click.option("--model", "model_name", required=True, shell_complete=_complete_names,
              help="Model name, e.g. lstm-2x128 or gru-2x149.warpeace.")
@_data_options
@click.option("--out", type=click.Path(file_okay=False), help="Run directory (default: runs/<model>.<data>).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last finished epoch.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--input", "input_kind", type=click.Choice(["onehot", "embedding"]),
              help="Input vectors (default: the registry entry's, else onehot).")
@click.option("--embed-dim", type=click.IntRange(min=1),
              help="Embedding width with --input embedding (default: the hidden size).")
@click.option("--bias", type=click.Choice(["single", "double"]),
              help="One bias per gate block (the paper's counts) or two (torch's layout).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="An architecture option, e.g. --set depth=3 for nlstm (repeatable; `zoo info` lists them).")
@click.option("--snapshot-every", type=click.IntRange(min=0), default=0,
              help="Also keep the model every N optimizer steps in steps/ "
                   "(for the training-kl analysis of the first epochs).")
@click.option("--task", type=click.Choice(TASKS),
              help="next-char: a character language model (the paper); autocomplete: predict the "
                   "word being typed (Madsen 2019, on the text normalized as text8). "
                   "Default: the registry entry's, else next-char.")
@click.option("--words", type=click.IntRange(min=1),
              help="Autocomplete: the most frequent training words the head scores "
                   "(default: the model's classes less padding and unknown, else 16384).")
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

    from ..data import load_corpus
    from ..recipe import Recipe
    from ..registry import resolve
    from ..runs import read_run
    from ..train import saved_recipe, train_autocomplete
    from ..train import train as run_training

    overrides: dict[str, Any] = {
        k: v for k, v in (("input", input_kind), ("embed_dim", embed_dim), ("bias", bias)) if v
    }
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
    out = out or (f"runs/{model_name.split('.')[0]}.{corpus.name.removesuffix('.txt')}"
                  + (".autocomplete" if task == "autocomplete" else ""))
    given = {k: v for k, v in recipe_fields.items() if v is not None}
    saved = saved or (saved_recipe(out) if resume else None)
    base = saved[0] if saved else dataclasses.asdict(Recipe.autocomplete() if task == "autocomplete" else Recipe())
    recipe = Recipe(**{**base, **given})
    log = (lambda line: None) if as_json else (lambda line: click.echo(line, err=True))
    try:
        if task == "autocomplete":
            result = train_autocomplete(model_name, corpus, recipe, out, resume=resume, device=device,
                                        progress=not quiet, log=log, overrides=overrides, words=words)
        else:
            result = run_training(model_name, corpus, recipe, out, resume=resume, device=device,
                                  progress=not quiet, log=log, overrides=overrides, snapshot_every=snapshot_every)
    except KeyboardInterrupt:  # Ctrl-C: say what was kept and how to go on
        kept = (read_run(out) or {}).get("history") or []
        if kept and os.environ.get("RANK", "0") == "0":
            how = "run the same command again" if resume else "add --resume to the same command"
            raise ZooInterrupted(
                f"interrupted; {out} keeps its {len(kept)} finished epoch(s): {how} to continue"
            ) from None
        raise
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun, rank 0 reports
    summary = {"run": str(result.run), "epochs": result.epochs, "best_epoch": result.best_epoch,
               "best_valid_nats": result.best_valid_nats, "stopped_early": result.stopped_early}
    if as_json:
        emit_json({**summary, "history": result.history})
    else:
        unit = "nats per scored character" if task == "autocomplete" else "nats/char"
        click.echo(f"run {result.run}: best validation {result.best_valid_nats:.4f} {unit} "
                   f"at epoch {result.best_epoch}")


@click.group()
def baseline() -> None:
    """Fit the paper's baselines (n-gram, n-NN) and other registered baselines."""


@baseline.command("fit")
@click.argument("name")
@click.option("--order", type=int, required=True, help="n: the characters of context (ngram: a (n+1)-gram).")
@_data_options
@click.option("--out", type=click.Path(file_okay=False),
              help="Directory for the fitted model (default: runs/<name>-<order>.<data>).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="A baseline-specific option, e.g. --set memory=8G (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress output.")
def baseline_fit(name, order, data, line_endings, split, out, settings, quiet) -> None:
    """Fit baseline NAME (see `zoo list`) on the training split of --data.

    \b
    zoo baseline fit ngram --order 9 --data warpeace     # modified Kneser-Ney 10-gram (KenLM)
    zoo eval --model runs/ngram-9.warpeace               # test cross-entropy, as for any model
    """
    from ..data import encoded_splits, load_corpus
    from ..plugins import plugins

    cls = plugins().get("baseline", name).load()
    options = _key_values(settings, typed=True)
    corpus = load_corpus(data, line_endings=line_endings, split=split, progress=not quiet)
    out = Path(out or f"runs/{name}-{order}.{corpus.name.removesuffix('.txt')}")
    if (out / "config.json").exists():
        raise ZooError(f"{out} already holds a model: choose another --out")
    if out.is_dir() and any(out.iterdir()):  # the fit writes its files there: never beside a user's
        raise ZooError(f"{out} holds other files: choose a new or empty --out")
    from ..fileio import folder_for

    vocab, ids, valid_ids, _ = encoded_splits(corpus)
    with folder_for(out):  # made here: a path that cannot be made is the user's to fix, not the plugin's failure
        cls.fit(ids, vocab, order=order, directory=out, sections={"dataset": corpus.describe()},
                valid_ids=valid_ids, progress=not quiet, **options)
    click.echo(f"{name} (order {order}) fitted on {len(ids):,} characters of {corpus.name}: {out}", err=True)


def _key_values(settings: tuple[str, ...], typed: bool = False) -> dict[str, Any]:
    """--set KEY=VALUE items as a dict (`zoo.params.settings`): the text as given, for an
    architecture's `Param`s to read; `typed` reads numbers and booleans as YAML does, for a
    baseline's keyword arguments, which declare no types."""
    from ..params import settings as parse

    return {key: yaml_scalar(value) if typed else value for key, value in parse(settings)}


def yaml_scalar(text: str) -> Any:
    """`--set` values: numbers and booleans as YAML reads them, anything else as text."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool)) else text
