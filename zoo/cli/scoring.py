"""`zoo eval`, `zoo sample` and `zoo autocomplete`: what a trained model says about text."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from ..errors import ZooError
from .common import complete_models, emit_json, is_autocomplete, labelled, load_model, trained_corpus


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
    nats of one pass over the whole split; --streams 1 is that pass). For an autocomplete model:
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

    from ..checkpoint import is_shared, read_config, update_config
    from ..evaluate import char_losses, summarize

    model, path = load_model(model_spec, device)
    saved = read_config(path)
    others = {label: load_model(ref, device)[0] for label, ref in labelled([model_spec, *references])[1:]}
    for label, other in others.items():  # each must score the model's very characters
        if is_autocomplete(other) != is_autocomplete(model):
            raise ZooError(f"--reference {label}: one of the two predicts words, the other characters; they score "
                           "different things")
        if is_autocomplete(model) and other.words != model.words:
            raise ZooError(f"--reference {label} knows other words than the model, so it scores other characters "
                           "(an unknown word is not scored): compare autocomplete models trained with the same "
                           "--words on the same text")
    corpus = trained_corpus(saved, data, line_endings, fractions, progress=not as_json)
    if is_autocomplete(model):
        from .. import autocomplete as ac

        encoded = ac.encode(ac.rebuild(corpus, model.words, saved).part(part), model.words)
        found = ac.predictions(model, encoded, progress=not as_json)
        words = ac.summarize(found)
        result = {"model": model_spec, "data": corpus.name, "split": part, "task": "autocomplete", **words,
                  **{k: v for k, v in summarize(found["loss"], resamples, block=block).items()
                     if k.startswith(("se_", "boot"))}}
        metrics = {f"{part}_nats": result["nats"], f"{part}_accuracy": result["accuracy"]}
        theirs = {label: ac.predictions(other, encoded, progress=not as_json) for label, other in others.items()}
    else:
        text = dict(zip(("train", "valid", "test"), corpus.splits()))[part]
        found = {"loss": char_losses(model, torch.from_numpy(model.vocab.encode(text)), streams=streams)}
        result = {"model": model_spec, "data": corpus.name, "split": part, "streams": streams,
                  **summarize(found["loss"], resamples, block=block),
                  "unknown_characters": model.vocab.unknown_count(text)}
        metrics = {f"{part}_nats": result["nats"], f"{part}_se_nats": result["se_nats"],
                   f"{part}_se_block": block}  # what the error was drawn from (runs of this many characters)
        theirs = {label: {"loss": char_losses(other, torch.from_numpy(other.vocab.encode(text)),  # own vocab
                                              streams=streams),
                          "unknown_characters": other.vocab.unknown_count(text)} for label, other in others.items()}
    if others:
        result["references"] = [_compared(label, found, theirs[label], resamples, block) for label in others]
    if Path(model_spec).is_dir() and not is_shared(path):  # never into the Hub cache or the zoo package
        try:
            update_config(path, metrics={**metrics, f"{part}_data_sha256": corpus.sha256})
            result["checkpoint"] = str(path)
        except OSError as exc:  # a read-only folder: the figures are still printed
            # stacklevel=1: the warning is about this folder, not the caller's code
            warnings.warn(f"the figures were not recorded in {path / 'config.json'}: {exc.strerror or exc}",
                          stacklevel=1)
    if as_json:
        emit_json(result)
    else:
        _echo_evaluation(result, corpus.name, block, resamples, model.vocab.unk)

def _echo_evaluation(result: dict[str, Any], corpus_name: str, block: int, resamples: int, unk: str) -> None:
    """`zoo eval`'s figures for people: the model's line, a note on unknown characters, then one
    line per reference."""
    part = result["split"]
    runs = f" (errors from runs of {block:,} characters)" if block > 1 and resamples > 1 else ""
    if result.get("task") == "autocomplete":
        click.echo(f"{part} word-level cross-entropy on autocomplete/{corpus_name} "
                   f"({result['scored_characters']:,} scored characters): "
                   f"{result['nats']:.4f}{_pm(result['se_nats'])} nats; accuracy {result['accuracy']:.2%}, "
                   f"top-2 {result['top2']:.2%}, top-3 {result['top3']:.2%}{runs}")
    else:
        click.echo(f"{part} cross-entropy on {corpus_name} ({result['characters']:,} predicted characters): "
                   f"{result['nats']:.4f}{_pm(result['se_nats'])} nats/char, "
                   f"{result['bits']:.4f}{_pm(result['se_bits'])} bits/char{runs}")
        unknown = result["unknown_characters"]
        if unknown:
            verbs = ("is", "was") if unknown == 1 else ("are", "were")
            click.echo(f"note: {unknown:,} of them {verbs[0]} not in the model's vocabulary and {verbs[1]} "
                       f"scored as its unknown-character stand-in {unk!r}", err=True)
    if not result.get("references"):
        return
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
    from ..evaluate import bootstrap_se, summarize

    row = {"model": label, **{k: v for k, v in summarize(theirs["loss"], resamples, block=block).items()
                              if k in ("nats", "se_nats", "bits")}}
    difference = theirs["loss"] - own["loss"]
    row.update(difference_nats=float(difference.mean()),
               difference_se_nats=bootstrap_se(difference, resamples, block=block))
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


@click.command()
@click.option("--model", "model_spec", required=True, shell_complete=complete_models,
              help="An autocomplete model: a checkpoint or run directory, hf:org/name@revision, "
                   "or a registry name with weights.")
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
    from ..autocomplete import MAX_LENGTH, suggest
    from ..checkpoint import read_config

    model, path = load_model(model_spec, device)
    built = (read_config(path).get("dataset") or {}).get("autocomplete") or {}
    found = suggest(model, text, count, max_length=built.get("max_length", MAX_LENGTH))
    if as_json:
        emit_json({"text": text, "suggestions": [{"word": w, "probability": p} for w, p in found]})
        return
    for word, p in found:
        click.echo(f"{p:7.2%}  {word}")


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
