"""`zoo analyze`: one or several analyzers on a model, one report each, and an index page."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import click

from ..errors import ZooError
from ..fileio import hold_folder
from .catalog import analyzer_record
from .common import complete_models, emit_json, folder_name, is_autocomplete, labelled, load_model, trained_corpus


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


def _analyzer_help() -> str:
    """Every installed analyzer with its parameters, for `zoo analyze --help`."""
    from ..plugins import plugins

    lines = []
    for name in plugins().names("analyzer"):
        record = analyzer_record(name)
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
    from ..params import settings as parse

    given: dict[str, dict[str, Any]] = {r.name: {} for r in runners}
    for key, value in parse(settings):
        item = f"{key}={value}"
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


def _analysed_text(model, saved: dict[str, Any], corpus, part: str, text: str | None,
                   max_chars: int | None) -> tuple[str, dict[str, Any], str | None]:
    """(the text to analyse, where it comes from, the training split or None): the split `part`
    of `corpus`, or `text` as given; an autocomplete model reads its observations, one a line."""
    words = is_autocomplete(model)
    if words:  # its texts are observations, one per line (zoo.autocomplete.as_text)
        from .. import autocomplete as ac
    if corpus is None:
        parts = None
    elif words:
        built = ac.rebuild(corpus, model.words, saved)
        parts = {name: ac.as_text(built.part(name)) for name in ("train", "valid", "test")}
    else:
        parts = dict(zip(("train", "valid", "test"), corpus.splits()))
    if text is not None:
        if "\n" not in text and _is_file(text):  # a file meant for --data, likely
            click.echo(f"note: --text analyses the {len(text)} characters given, not the file {text!r}: "
                       "to analyse the file, pass it with --data", err=True)
        text = ac.as_text(ac.from_text(text)) if words else text
        source: dict[str, Any] = {"name": "text given with --text"}
    else:
        text = parts[part]
        source = {**{k: v for k, v in corpus.describe().items() if k in ("name", "sha256", "line_endings")},
                  "split": part}
    if max_chars:
        cut = text.rfind("\n", 0, max_chars + 1) if words else max_chars  # whole observations only
        text = text[:cut if cut > 0 else max_chars]
        source["max_chars"] = max_chars
    if not text.strip():
        raise ZooError("there is no text to analyse" + (" (an autocomplete model reads letters a-z)" if words else ""))
    return text, source, parts["train"] if parts else None


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
    import torch

    from ..analysis import AnalysisData, describe_model, get_analyzer
    from ..analysis import analyze as run_analysis
    from ..checkpoint import read_config
    from ..plugins import blame
    from ..report import check_report_dir, write_index, write_report

    if bool(model_spec) == bool(models_glob):
        raise ZooError("give either --model or --models")
    if models_glob:
        model_spec, *more = _matching_models(models_glob)
        references = (*more, *references)
    (label, model_spec), *named_references = labelled([model_spec, *references])
    folder = re.sub(r"[^\w.@+-]+", "-", label).strip("-")  # hf:org/name@rev: one folder, no colon
    if not out:  # reports/<folder>, never beside it: no label reads as '..' or '.'
        folder_name(folder, f"the model's name {label!r}")
    names = [n.strip() for n in analyzer_names.split(",") if n.strip()]
    if not names:
        raise ZooError("--analyzer needs at least one analyzer name (see `zoo list`)")
    every = names == ["all"]
    if every:
        from ..plugins import plugins

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

    model, path = load_model(model_spec, device)
    saved = read_config(path)
    runners = applicable(runners, lambda runner: runner.check(model))
    refs = {name: load_model(ref, device)[0] for name, ref in named_references}
    corpus = (None if text is not None and not data
              else trained_corpus(saved, data, line_endings, fractions, progress=not quiet))
    text, source, train_text = _analysed_text(model, saved, corpus, part, text, max_chars)
    to_encode = text.replace("\n", " ") if is_autocomplete(model) else text
    analysed = AnalysisData(ids=torch.from_numpy(model.vocab.encode(to_encode)),
                            text=text, vocab=model.vocab, train_text=train_text,
                            references=refs, source=source, progress=not quiet,
                            checkpoint=Path(model_spec) if Path(model_spec).is_dir() else path, label=label)
    # every analyzer's inputs before any of them runs: all or nothing is refused
    runners = applicable(runners, lambda runner: runner.check_inputs(model, analysed, resolved[runner.name]))
    meta = {"model": {**describe_model(model), "name": label, "checkpoint": str(path.resolve()),
                      "weights_sha256": saved.get("weights_sha256")}}
    one_folder_each = not out or len(runners) > 1 or every  # then an index page lists them, beside them
    home = Path(out or Path("reports") / folder)
    targets = {runner.name: home / runner.name if one_folder_each else home for runner in runners}
    for target in targets.values():  # before any work: a folder that cannot take its report
        check_report_dir(target)
    results = {}
    with hold_folder(home, "written by another zoo analyze"):  # two analyses into one --out would replace each other
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
        from ..report import jsonable

        emit_json(jsonable(results))
