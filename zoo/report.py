"""Reports on disk: one writer for every analyzer.

A report directory holds ``report.json`` (what produced it, and the summary), ``arrays.npz`` (the
raw numbers), one PNG per figure, and ``report.html``: a single self-contained page (figures as
data URIs, style and script inline) that opens from a file, offline, and can be mailed. The page
is rendered from Jinja templates: ``zoo/templates/report.html.j2`` is the page every analyzer
shares, and an analyzer's own template (`Analyzer.template`) extends it.

The directory is written atomically: everything goes into a hidden temporary directory beside the
target, which replaces the target only when complete, so an interrupted analysis leaves the
previous report (or nothing) and never half of one. A target that exists and is not a report is
never touched.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .analysis import Report
from .errors import ZooError
from .fileio import atomic_write, usual_mode

TEMPLATES = Path(__file__).parent / "templates"
BASE_TEMPLATE = "report.html.j2"


PAGE_WIDTH = 11.2
"""The report page's content width in inches at `png`'s 100 dpi (base.css: 1180 px less 2 x 28 px
of padding): a figure this wide fills the page's width at its natural size, neither scaled down
(blurred text) nor leaving half the page empty."""


def new_figure(width: float, height: float, layout: str | None = "constrained"):
    """A matplotlib figure that needs no pyplot or display (the Agg canvas draws it)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def png(figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes. A character the figure's font lacks (CJK in a text excerpt) is
    drawn as a box without a warning per glyph: the report's HTML shows the text itself."""
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars and arrays as Python numbers and lists, tuples as lists, and
    NaN or infinity as None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def model_label(meta: dict[str, Any]) -> str:
    model = meta.get("model") or {}
    if model.get("name"):
        return model["name"]
    if "arch" in model:
        return f"{model['arch']}-{model['layers']}x{model['hidden']}"
    return model.get("class", "model")


def render_html(report: Report, template: str | Path | None = None) -> str:
    """The self-contained page for `report`, from the analyzer's template or the shared one."""
    folders = [str(TEMPLATES)]
    name = BASE_TEMPLATE
    if template is not None:
        template = Path(template)
        folders.insert(0, str(template.parent))
        name = template.name
    env = _environment(folders)
    figures = [(fig, "data:image/png;base64," + base64.b64encode(data).decode("ascii"))
               for fig, data in report.figures.items()]
    return env.get_template(name).render(
        title=f"{report.analyzer} · {model_label(report.meta)}",
        analyzer=report.analyzer,
        model=model_label(report.meta),
        meta=jsonable(report.meta),
        summary=jsonable(report.summary),
        summary_json=json.dumps(jsonable(report.summary), indent=2),
        figures=figures,
        data=jsonable(report.html),
    )


def _environment(folders: list[str]):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(folders), autoescape=True,
                              undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)


INDEX = "index.html"


def write_index(folder: str | Path) -> Path | None:
    """Write ``index.html`` in `folder`, a card linking each report found in its subfolders (what
    `zoo analyze` puts in ``reports/<model>/``), newest analyses included. Returns its path, or
    None when there is no report to list or an ``index.html`` there is someone else's (never
    replaced)."""
    from urllib.parse import quote

    from . import __version__

    folder = Path(folder)
    page = folder / INDEX
    if page.exists() and (not page.is_file() or 'name="zoo-page" content="index"' not in
                          page.read_text(encoding="utf-8", errors="replace")):
        return None
    reports = []
    for record_file in sorted(folder.glob("*/report.json")):
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
            meta, files = record["meta"], record["files"]
            href = f"{quote(record_file.parent.name)}/{quote(files['html'])}"
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a zoo report: nothing to link
        figure = next(iter(files.get("figures") or []), None)
        reports.append({
            "analyzer": meta.get("analyzer", record_file.parent.name), "about": meta.get("about", ""),
            "href": href, "figure": figure,
            "thumbnail": f"{quote(record_file.parent.name)}/{quote(figure)}" if figure else None,
            "data": data_line(meta),
            "references": meta.get("references") or [],
            "created": meta.get("created", ""), "made": _when(meta.get("created", "")),
            "weights": ((meta.get("model") or {}).get("weights_sha256") or "")[:12],
            "model": model_label(meta)})
    if not reports:
        return None
    html = _environment([str(TEMPLATES)]).get_template("index.html.j2").render(
        title=f"Reports · {max(reports, key=lambda r: r['created'])['model']}", version=__version__,
        reports=reports, several_weights=len({r["weights"] for r in reports}) > 1)
    try:
        atomic_write(page, html)
    except OSError as exc:
        raise ZooError(f"cannot write {page}: {exc.strerror or exc}") from exc
    return page


def data_line(meta: dict[str, Any]) -> str:
    """What a report read, in words: "warpeace.txt, test split, 321,048 characters (321,047
    predicted)". Both counts, named, because `zoo eval` gives the second (the predictions it
    scores: every character but the first) and the analyses of internals read the first."""
    data = meta.get("data") or {}
    characters, predicted = data.get("characters"), data.get("predicted")
    count = isinstance(characters, int) and f"{characters:,} characters"
    if count and isinstance(predicted, int):
        count += f" ({predicted:,} predicted)"
    return ", ".join(filter(None, [str(data.get("name", "a text given directly")),
                                   data.get("split") and f"{data['split']} split", count]))


def _when(created: str) -> str:
    """An ISO timestamp as people read it: 2026-12-01 05:09 UTC."""
    import datetime

    try:
        moment = datetime.datetime.fromisoformat(created).astimezone(datetime.UTC)
    except (TypeError, ValueError):
        return created
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def check_report_dir(directory: str | Path) -> None:
    """Refuse a folder a report cannot replace whole: a file, or a folder holding anything but an
    earlier report's own files. Writing replaces the folder, so no one else's file may be in it."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ZooError(f"cannot write a report to {directory}: it is a file")
    entries = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    if not entries:
        return
    try:
        files = json.loads((directory / "report.json").read_text(encoding="utf-8"))["files"]
        own = {"report.json", files["html"], files["arrays"], *files["figures"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise ZooError(f"{directory} holds files that are not a zoo report: choose another --out") from None
    others = [name for name in entries if name not in own]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise ZooError(f"{directory} holds files besides its report ({shown}), which a new report would "
                       "replace: move them or choose another --out")


def write_report(report: Report, directory: str | Path, template: str | Path | None = None) -> Path:
    """Write `report` into `directory` (replacing an earlier report there), atomically."""
    directory = Path(directory)
    check_report_dir(directory)
    html = render_html(report, template)  # before anything touches the disk: a template error writes nothing
    try:
        _write(report, directory, html)
    except OSError as exc:  # a full disk, a folder without write permission: the earlier report stays
        raise ZooError(f"cannot write the report to {directory}: {exc.strerror or exc}") from exc
    return directory


def _write(report: Report, directory: Path, html: str) -> None:
    """Every file into a staging folder beside `directory`, then one rename swaps it in."""
    import numpy as np

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial", dir=directory.parent))
    try:
        staging.chmod(usual_mode(directory=True))
        record = {"meta": jsonable(report.meta), "summary": jsonable(report.summary),
                  "files": {"arrays": "arrays.npz" if report.arrays else None,
                            "figures": list(report.figures), "html": "report.html"}}
        (staging / "report.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if report.arrays:
            np.savez_compressed(staging / "arrays.npz", **{k: np.asarray(v) for k, v in report.arrays.items()})
        for name, data in report.figures.items():
            (staging / name).write_bytes(data)
        (staging / "report.html").write_text(html, encoding="utf-8")
        if directory.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old", dir=directory.parent))
            os.replace(directory, retired / directory.name)
            os.replace(staging, directory)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_reports(model: Any, runners: list, data: Any, params: dict[str, dict[str, Any]], home: Path, *,
                  one_folder_each: bool, meta: dict[str, Any], written=None,
                  failed=None) -> tuple[dict[str, Any], Path | None]:
    """Run each analyzer on `model` with its `params` and write its report: in ``home/<analyzer>`` with an index
    page beside them (`one_folder_each`), else in `home` itself. Every target is checked before
    any analyzer runs, and `home` is held while they write (`zoo.fileio.hold_folder`: two
    analyses into one folder would replace each other). `written(name, page)` is told of each
    report as it is written. Of several analyzers, one that fails (a plugin's bug) is told to
    `failed(name, line)` and the others still run; the call then raises one line naming the
    failed ones, after the index of the written reports. Returns ``{name: {"report", "summary"}}``
    and the index page (None where there is none, or where a page of that name is not the zoo's
    and was left alone)."""
    import contextlib

    from .analysis import analyze
    from .fileio import hold_folder
    from .plugins import blame

    targets = {runner.name: home / runner.name if one_folder_each else home for runner in runners}
    for target in targets.values():  # before any work: a folder that cannot take its report
        check_report_dir(target)
    results: dict[str, Any] = {}
    failures: list[str] = []
    with hold_folder(home, "written by another zoo analyze"):
        try:
            for runner in runners:
                try:
                    with blame("analyzer", runner.name):
                        report = analyze(model, runner, data, meta=meta, **params[runner.name])
                        write_report(report, targets[runner.name], runner.template)
                except ZooError as exc:
                    if len(runners) == 1:
                        raise
                    failures.append(runner.name)
                    if failed is not None:
                        failed(runner.name, str(exc))
                    continue
                page = targets[runner.name] / "report.html"
                results[runner.name] = {"report": str(page), "summary": report.summary}
                if written is not None:
                    written(runner.name, page)
            if failures:
                raise ZooError(f"{len(failures)} of {len(runners)} analyzers failed ({', '.join(failures)}); "
                               f"the reports of the others are written")
        except BaseException:  # failed or interrupted: the index lists the reports written
            if one_folder_each and results:
                with contextlib.suppress(ZooError):
                    write_index(home)
            raise
        return results, write_index(home) if one_folder_each else None
