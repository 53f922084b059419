"""`zoo analyze`: one or several analyzers on a model, one report each, and an index page."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..catalog import analyzer_record
from ..errors import ZooError
from .common import ParamsEpilog, complete_models, emit_json, folder_name, labelled, load_model, trained_corpus


def _complete_analyzers(ctx, param, incomplete: str) -> list:
    """Shell completion of --analyzer: installed analyzer names (or all), after any commas."""
    from ..plugins import plugins

    done, _, last = incomplete.rpartition(",")
    prefix = done + "," if done else ""
    return [prefix + name for name in [*plugins().names("analyzer"), *([] if done else ["all"])]
            if name.startswith(last)]


def _is_file(name: str) -> bool:
    """Whether `name` names a file here; text too long to be a file's name is not one."""
    try:
        return Path(name).is_file()
    except OSError:  # ENAMETOOLONG and the like
        return False


class _AnalyzeCommand(ParamsEpilog):
    kind, heading = "analyzer", "Analyzers and their parameters (--set KEY=VALUE)"
    record = staticmethod(analyzer_record)
    note = staticmethod(lambda record: f"  [needs: {', '.join(sorted(record['requires'] + record['needs']))}]")


def _matching_models(pattern: str) -> list[str]:
    """--models: the checkpoint and run directories a glob matches, in order."""
    import glob

    from ..runs import is_run

    found = sorted(p for p in glob.glob(pattern) if (Path(p) / "config.json").is_file() or is_run(p))
    if not found:
        raise ZooError(f"--models {pattern!r} matches no checkpoint or run directory")
    return found


@click.command(cls=_AnalyzeCommand)
@click.option("--model", "model_spec", shell_complete=complete_models,
              help="A checkpoint or run directory, hf:org/name@revision, or a registry name with weights "
                   "(lstm-2x128.sample ships with the zoo); NAME=MODEL names it in the reports.")
@click.option("--models", "models_glob",
              help="Several models at once, e.g. 'runs/*.warpeace' (model-map): the checkpoint and run directories "
                   "it matches; the first is the model, the others its references.")
@click.option("--analyzer", "analyzer_names", required=True, shell_complete=_complete_analyzers,
              help="Analyzer name(s), comma-separated (listed below), or 'all': every analyzer that this model and "
                   "these inputs allow, the others named on stderr with what they lack.")
@click.option("--data", help="Dataset name or text file (default: the one the model was trained on).")
@click.option("--line-endings", type=click.Choice(["lf", "crlf", "keep"]), help="Default: as in training.")
@click.option("--split", "fractions", help="Train,validation,test fractions (default: as in training).")
@click.option("--on", "part", type=click.Choice(["test", "valid", "train"]), default="test", show_default=True,
              help="Which split to analyse.")
@click.option("--text", help="Analyse this text, as written, instead of a split (a file goes to --data).")
@click.option("--max-chars", type=click.IntRange(min=2), help="Analyse only the first N characters of the split.")
@click.option("--reference", "references", multiple=True, shell_complete=complete_models,
              help="A model to compare with (checkpoint, run or baseline directory; "
                   "NAME=MODEL names it in the report); repeatable.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="An analyzer parameter (ANALYZER.KEY=VALUE for one analyzer); repeatable.")
@click.option("--cells", help="Cells for the cells analyzer to show, e.g. 2:46,2:13 (same as --set cells=...).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Report directory (default: reports/<model>/<analyzer>, hf:org/name@rev as hf-org-name@rev; "
                   "with several analyzers, one subdirectory each).")
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
    from ..analysis import AnalysisData, analysed_text, applicable, describe_model, select_analyzers
    from ..checkpoint import read_config
    from ..params import settings as parse
    from ..report import jsonable, write_reports
    from ..tasks import task_of

    (label, model_spec), *named_references = _models(model_spec, models_glob, references)
    home = Path(out or Path("reports") / _folder(label))
    every = analyzer_names.strip() == "all"
    settings = (*settings, *_cells_setting(cells, analyzer_names))
    runners, params = select_analyzers(analyzer_names.split(","), parse(settings))
    model, path = load_model(model_spec, device)
    saved = read_config(path)
    runners = applicable(runners, lambda runner: runner.check(model), every, _skipped)
    refs = {name: load_model(ref, device)[0] for name, ref in named_references}
    corpus = None if text is not None and not data else trained_corpus(saved, data, line_endings, fractions, not quiet)
    _note_a_file_as_text(text)
    text, source, train_text = analysed_text(model, saved, corpus, part, text, max_chars)
    analysed = AnalysisData(ids=task_of(model).encode(model, text), text=text, vocab=model.vocab, train_text=train_text,
                            references=refs, source=source, progress=not quiet,
                            checkpoint=Path(model_spec) if Path(model_spec).is_dir() else path, label=label)
    # every analyzer's inputs before any of them runs: all or nothing is refused
    runners = applicable(runners, lambda r: r.check_inputs(model, analysed, params[r.name]), every, _skipped)
    meta = {"model": {**describe_model(model), "name": label, "checkpoint": str(path.resolve()),
                      "weights_sha256": saved.get("weights_sha256")}}
    one_folder_each = not out or len(runners) > 1 or every  # then an index page lists them, beside them
    results, index = write_reports(model, runners, analysed, params, home, one_folder_each=one_folder_each, meta=meta,
                                   written=None if as_json else lambda name, page: click.echo(f"{name}: {page}"),
                                   failed=lambda name, line: click.echo(f"zoo: error: {line}", err=True))
    if one_folder_each and index is None:
        click.echo(f"zoo: note: {home / 'index.html'} is not a zoo index page: left as it is", err=True)
    elif index is not None and not as_json:
        click.echo(f"all reports of this model: {index}")
    if as_json:
        emit_json(jsonable(results))


def _models(model_spec: str | None, models_glob: str | None, references: tuple[str, ...]) -> list[tuple[str, str]]:
    """(label, spec) of the analysed model, then of each reference: --model and --reference, or
    --models (the first match is the model, the others its references)."""
    if bool(model_spec) == bool(models_glob):
        raise ZooError("give either --model or --models")
    if models_glob:
        model_spec, *more = _matching_models(models_glob)
        references = (*more, *references)
    return labelled([model_spec, *references])


def _folder(label: str) -> str:
    """The report folder's name for a model labelled `label` (hf:org/name@rev: one folder, no
    colon), refused where it would put the reports beside reports/ ('..', '.')."""
    return folder_name(re.sub(r"[^\w.@+-]+", "-", label).strip("-"), f"the model's name {label!r}")


def _cells_setting(cells: str | None, analyzer_names: str) -> tuple[str, ...]:
    """--cells, the cells analyzer's own flag, as the --set item it stands for."""
    if not cells:
        return ()
    if "cells" not in [n.strip() for n in analyzer_names.split(",")]:
        raise ZooError("--cells is for the cells analyzer: add it to --analyzer")
    return (f"cells.cells={cells}",)


def _skipped(name: str, reason: str) -> None:
    click.echo(f"zoo: skipped {name}: {reason}", err=True)


def _note_a_file_as_text(text: str | None) -> None:
    """--text with the name of a file: likely meant for --data."""
    if text is not None and "\n" not in text and _is_file(text):
        click.echo(f"note: --text analyses the {len(text)} characters given, not the file {text!r}: "
                   "to analyse the file, pass it with --data", err=True)
