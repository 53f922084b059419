"""`zoo autocomplete`: suggestions from a trained autocomplete model (Madsen 2019's first figure).

Imported when `zoo --help` lists the command: torch loads only inside the command's function.
"""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--model", "model_spec", required=True,
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
    import zoo

    from .data import MAX_LENGTH, suggest

    model = zoo.load(model_spec, device=device, announce=True)
    built = (zoo.read_config(model.checkpoint).get("dataset") or {}).get("autocomplete") or {}
    found = suggest(model, text, count, max_length=built.get("max_length", MAX_LENGTH))
    if as_json:
        click.echo(json.dumps({"text": text, "suggestions": [{"word": w, "probability": p} for w, p in found]},
                              indent=2))
        return
    for word, p in found:
        click.echo(f"{p:7.2%}  {word}")
