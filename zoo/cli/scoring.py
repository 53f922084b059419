"""`zoo eval` and `zoo sample`: what a trained model says about text."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from .common import complete_models, emit_json, labelled, load_model, trained_corpus


@click.command("eval")
@click.option("--model", "model_spec", required=True, shell_complete=complete_models,
              help="A checkpoint or run directory, hf:org/name@revision, or a registry name with weights.")
@click.option("--data", help="Dataset name or text file (default: the one the model was trained on).")
@click.option("--line-endings", type=click.Choice(["lf", "crlf", "keep"]), help="Default: as in training.")
@click.option("--split", "fractions", help="Train,validation,test fractions (default: as in training).")
@click.option("--on", "part", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
              help="Which split to score.")
@click.option("--resamples", type=click.IntRange(min=0, max=100_000), default=100, show_default=True,
              help="Bootstrap resamples for the standard error (at most 100,000).")
@click.option("--block", type=click.IntRange(min=1), default=1, show_default=True,
              help="Characters per bootstrap draw: 1 draws each on its own (the paper); more draw runs of that many, "
                   "which allows for the dependence between neighbouring characters.")
@click.option("--reference", "references", multiple=True, shell_complete=complete_models,
              help="Another model (checkpoint, run or baseline directory; NAME=MODEL names it) scored on the same "
                   "characters, with its difference to the model and that difference's paired bootstrap error; "
                   "repeatable.")
@click.option("--streams", type=click.IntRange(min=1, max=4096), default=64, show_default=True,
              help="Read the text as this many rows of one batch, each warmed up on the 1,000 characters before its "
                   "stretch (many times faster); 1 reads it as one sequence, the exact figure.")
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def eval_cmd(model_spec, data, line_endings, fractions, part, resamples, block, references, streams, device,
             as_json) -> None:
    """Cross-entropy of a model on a split, in nats and bits per character, with a bootstrap error.

    The split is read as --streams rows at once, each starting 1,000 characters early (within 1e-4
    nats of one pass over the whole split; --streams 1 is that pass). A model made for another
    task is scored as its task says (`zoo list` shows the tasks). Scored on the split of the text
    it was trained on, the figure is also written into the checkpoint's config.json (metrics,
    which its card publishes), unless the checkpoint is a download in the Hugging Face cache or
    ships with the zoo.

    \b
    zoo eval --model runs/lstm-3x128.warpeace --reference runs/gru-3x149.warpeace --reference runs/ngram-20.warpeace

    With --reference, each other model reads the same characters in its own vocabulary, and the
    difference (reference minus model, in nats/char) gets the standard error of a paired
    bootstrap: the same resampled characters for both, tighter than the two errors taken apart
    when, as usual, both models find the same characters hard. Models of a task that ranks its
    predictions (a word model's suggestions) are compared the same way, top-1 accuracy too.
    """
    from ..checkpoint import read_config
    from ..evaluate import evaluate_split

    model, path = load_model(model_spec, device)
    saved = read_config(path)
    others = {label: load_model(ref, device)[0] for label, ref in labelled([model_spec, *references])[1:]}
    corpus = trained_corpus(saved, data, line_endings, fractions, progress=not as_json)
    result, metrics = evaluate_split(model, corpus, part, saved, others, resamples=resamples, block=block,
                                     streams=streams, progress=not as_json)
    result = {"model": model_spec, **result}
    recorded = _record(model_spec, path, metrics, saved, corpus)
    if recorded:
        result["checkpoint"] = str(recorded)
    if as_json:
        emit_json(result)
    else:
        _echo_evaluation(result, corpus.name, block, resamples, getattr(model.vocab, "unk", ""))


def _record(model_spec: str, path: Path, metrics: dict[str, Any], saved: dict[str, Any], corpus) -> Path | None:
    """Write `zoo eval`'s figures into a local checkpoint's config.json (never into the Hub cache
    or the zoo package), and only for the split of the very text it was trained on: a card
    publishes them as the model's own; the folder written, or None."""
    from ..checkpoint import is_shared, update_config

    if not Path(model_spec).is_dir() or is_shared(path):
        return None
    trained_on = saved.get("dataset") or {}
    if trained_on.get("sha256") != corpus.sha256 or list(trained_on.get("split") or []) != list(corpus.split):
        return None
    try:
        update_config(path, metrics=metrics)
        return path
    except OSError as exc:  # a read-only folder: the figures are still printed
        # stacklevel=1: the warning is about this folder, not the caller's code
        warnings.warn(f"the figures were not recorded in {path / 'config.json'}: {exc.strerror or exc}", stacklevel=1)
        return None


def _echo_evaluation(result: dict[str, Any], corpus_name: str, block: int, resamples: int, unk: str) -> None:
    """`zoo eval`'s figures for people: the task's line, a note on unknown characters, then one
    line per reference."""
    from ..tasks import get_task

    task = get_task(result["task"])
    runs = f" (errors from runs of {block:,} characters)" if block > 1 and resamples > 1 else ""
    click.echo(task.headline(result, corpus_name) + runs)
    unknown = result.get("unknown_characters")
    if unknown:
        verbs = ("is", "was") if unknown == 1 else ("are", "were")
        click.echo(f"note: {unknown:,} of them {verbs[0]} not in the model's vocabulary and {verbs[1]} "
                   f"scored as its unknown-character stand-in {unk!r}", err=True)
    if not result.get("references"):
        return
    width = max(len(row["model"]) for row in result["references"])
    unit = task.unit
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


def _pm(se: float | None) -> str:
    """`` ± se``, or nothing when no bootstrap ran (--resamples 0 or 1)."""
    return "" if se is None else f" ± {se:.4f}"


@click.command()
@click.option("--model", "model_spec", required=True, shell_complete=complete_models,
              help="A checkpoint or run directory, hf:org/name@revision, or a registry name with weights.")
@click.option("--prime", default="", help="Text to start from.")
@click.option("-n", "--length", type=click.IntRange(min=0), default=500, show_default=True,
              help="Characters to generate.")
@click.option("--temperature", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Below 1: safer; 0: always the most likely character.")
@click.option("--seed", type=int, help="For reproducible samples.")
@click.option("--device", default="auto", show_default=True)
def sample(model_spec, prime, length, temperature, seed, device) -> None:
    """Generate text from a trained model, or from a fitted baseline (n-gram, n-NN); the text is
    printed as it is drawn."""
    from ..sample import check_settings, stream

    check_settings(length, temperature, seed)  # before loading anything
    model, _ = load_model(model_spec, device)
    unknown = model.vocab.unknown_count(prime)
    if unknown:  # read as the unknown stand-in: the model never saw them
        click.echo(f"note: {unknown:,} character(s) of --prime are not in the model's vocabulary and are read as "
                   f"its unknown-character stand-in {model.vocab.unk!r}", err=True)
    click.echo(prime, nl=False)
    for piece in stream(model, prime, length, temperature, seed):
        click.echo(piece, nl=False)
    click.echo()
