"""`zoo train` and `zoo baseline fit`: the training recipe and the data as options."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from ..errors import ZooError
from .common import ParamsEpilog, ZooInterrupted, emit_json


def _complete_names(ctx, param, incomplete: str) -> list:
    """Shell completion of --model for training: the registry's model names."""
    from ..registry import registry

    return [name for name in registry().models if name.startswith(incomplete)]


def _recipe_options(func):
    """The training recipe as command-line options; the defaults are the task's (`Task.recipe`),
    Karpathy et al. 2015's for next-char."""
    from ..recipe import Recipe

    paper = Recipe()

    def default(name: str) -> str:
        return f"[default: the task's; next-char: {getattr(paper, name)}]"

    options = [
        click.option("--epochs", "max_epochs", type=click.IntRange(min=1),
                     help=f"Most epochs to train. {default('max_epochs')}"),
        click.option("--patience", type=click.IntRange(min=0),
                     help="Stop after this many epochs without a better validation loss (0: never). "
                          f"{default('patience')}"),
        click.option("--batch-size", type=click.IntRange(min=1),
                     help=f"Parallel streams (or examples) per step. {default('batch_size')}"),
        click.option("--seq-length", type=click.IntRange(min=1),
                     help="Steps of truncated backpropagation through time (or an example's most characters). "
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
                          "(default: a task's own where it has one, else the dataset's, else 0.8,0.1,0.1)."),
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
              help="A task parameter or an architecture option, e.g. --set depth=3 for nlstm (repeatable; "
                   "`zoo list` shows the tasks' parameters, `zoo info` an architecture's options).")
@click.option("--snapshot-every", type=click.IntRange(min=0), default=0,
              help="Also keep the model every N optimizer steps in steps/ "
                   "(for the training-kl analysis of the first epochs).")
@click.option("--task", help="What the model learns to predict, a registered task (`zoo list`). "
                             "Default: the registry entry's, else next-char (the paper's language models).")
@_recipe_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON at the end.")
def train(model_name, data, line_endings, split, out, resume, device, input_kind, embed_dim, bias, settings,
          snapshot_every, task, quiet, as_json, **recipe_fields) -> None:
    """Train a model with its task's recipe (the paper's for next-char); checkpoint every epoch.

    \b
    zoo train --model lstm-3x512 --data warpeace --line-endings crlf
    zoo train --model gru-2x600.text8 --data text8     # the task its registry entry names
    Interrupted runs continue with --resume and give the same weights as an uninterrupted run.
    Data-parallel on several processes: torchrun --nproc_per_node 2 -m zoo train ...
    """
    from ..params import settings as parse
    from ..trainer import plan
    from ..trainer import train as run_training

    overrides = {k: v for k, v in (("input", input_kind), ("embed_dim", embed_dim), ("bias", bias)) if v}
    asked = plan(model_name, data, out=out, resume=resume, task=task, line_endings=line_endings, split=split,
                 recipe={k: v for k, v in recipe_fields.items() if v is not None}, settings=parse(settings),
                 overrides=overrides, progress=not quiet)
    log = (lambda line: None) if as_json else (lambda line: click.echo(line, err=True))
    with _interrupted(asked.out, resume):
        result = run_training(model_name, asked.corpus, asked.recipe, asked.out, task=asked.task,
                              options=asked.options, resume=resume, device=device, progress=not quiet, log=log,
                              overrides=asked.overrides, snapshot_every=snapshot_every)
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun, rank 0 reports
    summary = {"run": str(result.run), "epochs": result.epochs, "best_epoch": result.best_epoch,
               "best_valid_nats": result.best_valid_nats, "stopped_early": result.stopped_early}
    if as_json:
        emit_json({**summary, "history": result.history})
    else:
        click.echo(f"run {result.run}: best validation {result.best_valid_nats:.4f} {asked.task.unit} "
                   f"at epoch {result.best_epoch}")


@contextlib.contextmanager
def _interrupted(out: Path, resume: bool):
    """Ctrl-C during training: say what was kept and how to go on."""
    from ..runs import read_run

    try:
        yield
    except KeyboardInterrupt:
        kept = (read_run(out) or {}).get("history") or []
        if kept and os.environ.get("RANK", "0") == "0":
            how = "run the same command again" if resume else "add --resume to the same command"
            raise ZooInterrupted(
                f"interrupted; {out} keeps its {len(kept)} finished epoch(s): {how} to continue"
            ) from None
        raise


@click.group()
def baseline() -> None:
    """Fit the paper's baselines (n-gram, n-NN) and other registered baselines."""


def _keep_fitted(name: str, fitted, out: Path) -> None:
    """The fitted baseline is in `out` (written by its `fit`, else by its `save`), with the plugin
    that made it recorded, so that a missing plugin can be named when it is loaded."""
    from ..checkpoint import CONFIG, update_config
    from ..interfaces import Baseline
    from ..plugins import plugins

    if not (out / CONFIG).is_file() and isinstance(fitted, Baseline):
        fitted.save(out)
    if not (out / CONFIG).is_file():
        raise ZooError(f"baseline '{name}' wrote no {CONFIG} into {out}: its fit(directory=...) or save(directory) "
                       "must write the checkpoint (docs/interfaces.md)")
    update_config(out, plugin=plugins().provider("baseline", name))


class _BaselineFitCommand(ParamsEpilog):
    kind, heading = "baseline", "Baselines and their parameters (--set KEY=VALUE)"

    @staticmethod
    def record(name: str) -> dict:
        from ..catalog import baseline_record  # it loads the baseline's class, and so torch: only for --help

        return baseline_record(name)


@baseline.command("fit", cls=_BaselineFitCommand)
@click.argument("name")
@click.option("--order", type=int, required=True, help="n: the characters of context (ngram: a (n+1)-gram).")
@_data_options
@click.option("--out", type=click.Path(file_okay=False),
              help="Directory for the fitted model (default: runs/<name>-<order>.<data>).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="One of the baseline's parameters (listed below), e.g. --set memory=8G (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress output.")
def baseline_fit(name, order, data, line_endings, split, out, settings, quiet) -> None:
    """Fit baseline NAME (see `zoo list`) on the training split of --data.

    \b
    zoo baseline fit ngram --order 9 --data warpeace     # modified Kneser-Ney 10-gram (KenLM)
    zoo eval --model runs/ngram-9.warpeace               # test cross-entropy, as for any model
    """
    from ..data import encoded_splits, load_corpus
    from ..params import resolve_params
    from ..params import settings as parse_settings
    from ..plugins import plugins

    cls = plugins().get("baseline", name).load()
    options = resolve_params(getattr(cls, "params", {}), dict(parse_settings(settings)), f"baseline '{name}'", name)
    corpus = load_corpus(data, line_endings=line_endings, split=split, progress=not quiet)
    out = Path(out or f"runs/{name}-{order}.{corpus.name.removesuffix('.txt')}")
    if (out / "config.json").exists():
        raise ZooError(f"{out} already holds a model: choose another --out")
    if out.is_dir() and any(out.iterdir()):  # the fit writes its files there: never beside a user's
        raise ZooError(f"{out} holds other files: choose a new or empty --out")
    from ..fileio import folder_for

    vocab, ids, valid_ids, _ = encoded_splits(corpus)
    with folder_for(out):  # made here: a path that cannot be made is the user's to fix, not the plugin's failure
        fitted = cls.fit(ids, vocab, order=order, directory=out, sections={"dataset": corpus.describe()},
                         valid_ids=valid_ids, progress=not quiet, **options)
        _keep_fitted(name, fitted, out)
    click.echo(f"{name} (order {order}) fitted on {len(ids):,} characters of {corpus.name}: {out}", err=True)
