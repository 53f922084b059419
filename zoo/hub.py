"""Checkpoints on the Hugging Face Hub: push a run's best checkpoint with a model card, pull one at
a pinned revision into the Hugging Face cache, verified, and use it offline.

A pulled checkpoint is read where `huggingface_hub` put it and never written: the cache belongs
to the Hub client. Only ``model.safetensors``, ``config.json`` and ``README.md`` travel (and,
when asked, the ``analyses/`` published with the weights); a repository that holds only pickled
weights is refused. Every failure (no network, a missing
repository or revision, a checksum that does not match, no token) is one `ZooError` line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import CONFIG, FORMAT, PICKLED, WEIGHTS, checkpoint_dir, is_shared, pickled_files, read_config
from .errors import ZooError
from .fileio import atomic_write, make_folder, sha256_bytes
from .report import data_line
from .runs import is_run, trained_name

CARD = "README.md"
FILES = (WEIGHTS, CONFIG, CARD)
ANALYSES = "analyses"  # where a repository keeps the reports of its weights: analyses/<analyzer>/
REPO_ID = r"[A-Za-z0-9][\w.-]*/[\w.-]+"  # owner/name: what `hf:` names and a card tells users to load
SPEC = re.compile(rf"hf:(?P<repo>{REPO_ID})(?:@(?P<revision>.*))?", re.S)
COMMIT = re.compile(r"[0-9a-f]{40}")
# What git (and so the Hub) refuses in a branch or tag name (git check-ref-format): "..", control
# characters, space ~ ^ : ? * [ and backslash, "@{", a "/" leading, trailing or doubled, a part that
# starts with "." or ends with ".lock", a trailing ".", "@" alone.
BAD_REF = re.compile(r"\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|^/|/$|//|(^|/)\.|\.lock(/|$)|\.$|^@$")


def parse_spec(spec: str) -> tuple[str, str | None] | None:
    """``hf:org/name[@revision]`` -> (repo_id, revision), or None for anything else; a revision that
    is neither a commit nor a branch or tag name is refused (`check_revision`)."""
    match = SPEC.fullmatch(spec)
    if not match:
        return None
    return match["repo"], None if match["revision"] is None else check_revision(match["revision"], match["repo"])


def check_revision(revision: str, repo_id: str) -> str:
    """`revision` if the Hub can name it: a commit (40 hex digits), or a branch or tag name by git's
    rules (``main``, ``v1.0``, ``refs/pr/1``). Anything else (``../../etc``, a leading ``/``, a
    backslash, a space, a control character) is refused in one line before it reaches a URL or the
    Hugging Face cache, which files a branch's commit under ``refs/<revision>``."""
    if COMMIT.fullmatch(revision) or (revision and not BAD_REF.search(revision)):
        return revision
    raise ZooError(f"{repo_id}: revision {revision!r} is neither a commit (40 hex digits) nor a branch or tag name "
                   "git allows (no '..', spaces, control characters or '\\', no '/' at either end)")


# -- pull ------------------------------------------------------------------------------------------

def pull(repo_id: str, revision: str | None = None, sha256: dict[str, str] | None = None,
         progress: bool = True, analyses: bool = False) -> Path:
    """Download (or find in the cache) a checkpoint and verify it; return its local directory.

    `sha256` (from a registry entry) maps file names to the checksums they must have; the
    config's own ``weights_sha256`` is always checked. `analyses` also fetches the reports
    published with the weights (``analyses/<analyzer>/``: report.json and figures)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars, logging

    from .data import offline as no_network

    where = f"{repo_id}@{revision}" if revision else repo_id
    if revision is not None:
        check_revision(revision, repo_id)
    (enable_progress_bars if progress else disable_progress_bars)()
    logging.set_verbosity_error()  # its retries and warnings would bury the one line a failure gets
    patterns = [*FILES, *(f"*{suffix}" for suffix in PICKLED),  # pickles: only to name them if alone
                *([f"{ANALYSES}/*"] if analyses else [])]
    offline = no_network()  # ZOO_OFFLINE too: the cache only, as for the named datasets
    try:
        path = Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns, local_files_only=offline))
    except Exception as exc:  # huggingface_hub's errors, the network's, the cache's
        raise ZooError(_explain(exc, where, offline)) from None
    if not (path / WEIGHTS).is_file():
        pickles = pickled_files(path)
        what = f"only pickled weights ({', '.join(pickles)}), which zoo never loads" if pickles else f"no {WEIGHTS}"
        raise ZooError(f"{where} has {what}")
    config = read_config(path)
    data = (path / WEIGHTS).read_bytes()
    expected = {WEIGHTS: config.get("weights_sha256"), **(sha256 or {})}
    for name, checksum in expected.items():
        if checksum and sha256_bytes(data if name == WEIGHTS else (path / name).read_bytes()) != checksum:
            raise ZooError(f"{where}: {name} does not match its sha256 ({checksum[:12]}...): the download is corrupt "
                           "or the repository changed; nothing was loaded")
    return path


def _explain(exc: Exception, where: str, offline: bool) -> str:
    """One line for what went wrong with a download (huggingface_hub wraps an online 404 as a
    cache miss, so the text is read as well as the type)."""
    name = type(exc).__name__
    text = " ".join(str(exc).split()) or name
    if offline:
        return (f"{where} is not in the Hugging Face cache and cannot be downloaded "
                "(ZOO_OFFLINE or HF_HUB_OFFLINE is set)")
    if "404" in text or name in ("RepositoryNotFoundError", "RevisionNotFoundError", "EntryNotFoundError"):
        return f"{where}: no such repository or revision on the Hub"
    if "401" in text or "403" in text:
        return f"{where.split('@')[0]} is private or gated: log in with `hf auth login` or set HF_TOKEN"
    if name == "LocalEntryNotFoundError":
        return f"cannot download {where}: the Hub cannot be reached and it is not in the Hugging Face cache"
    return f"cannot download {where}: {name}: {text[:200]}"


# -- push ------------------------------------------------------------------------------------------

@dataclass
class Upload:
    """What a push publishes: file names -> bytes (and the card's text, for people), and the
    checkpoint folder they come from."""

    files: dict[str, bytes]
    card: str
    source: Path
    own_card: bool = False  # the card is the source folder's README (its Analyses section refreshed)

    def describe(self) -> list[dict[str, Any]]:
        return [{"path": name, "bytes": len(data), "sha256": sha256_bytes(data)} for name, data in self.files.items()]


def check_repo_id(repo_id: str) -> None:
    """Refuse, before anything is prepared, a repository id the Hub would refuse or that `hf:`
    could not name (a bare name: the card's loading lines need the owner)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if not re.fullmatch(REPO_ID, repo_id):
        raise ZooError(f"--repo-id {repo_id!r}: write it as owner/name, e.g. alice/lstm-2x128-warpeace")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ZooError(f"--repo-id {repo_id!r}: {str(exc).splitlines()[0]}") from None


def prepare(directory: str | Path, repo_id: str, license: str = "mit", model_name: str | None = None,
            reports: str | Path | None = None) -> Upload:
    """The files a push of `directory` (a checkpoint or run directory: its best epoch) publishes:
    the weights, config.json without anything local (paths, optimizer state) and a model card.
    `model_name` is the registry model the checkpoint reproduces (default: the one its run
    trained); the card cites that entry's published figure. `reports` (a report folder, or a
    folder of them as `zoo analyze` writes) adds each report's numbers and figures under
    ``analyses/``; every one must have been made from these weights. A folder with a card of its
    own for this repository (one `--to-dir` wrote, perhaps edited since) publishes that card as
    it is, with the analyses it holds."""
    check_repo_id(repo_id)
    folder = checkpoint_dir(directory)
    config = read_config(folder)
    if "baseline" in config:
        baseline = config["baseline"]
        name, order = baseline.get("name", "<name>"), baseline.get("order", "<n>")
        again = f"zoo baseline fit {name} --order {order} --data <text>"
        raise ZooError(f"{folder} is a fitted {name} baseline: zoo push publishes recurrent "
                       f"checkpoints (a baseline is fitted again in minutes with `{again}`)")
    if not (folder / WEIGHTS).is_file():
        raise ZooError(f"no checkpoint at {folder}: {WEIGHTS} is missing")
    public = _public_config({**config, **_run_history(folder)})
    weights = (folder / WEIGHTS).read_bytes()
    weights_sha256 = sha256_bytes(weights)
    analyses = {}  # a Hub-ready folder's own, then those given (which replace them)
    for source in ([folder / ANALYSES] if (folder / ANALYSES).is_dir() else []) + ([Path(reports)] if reports else []):
        analyses.update({a.name: a for a in _analyses(source, weights_sha256)})
    card = None if model_name else _own_card(folder, repo_id)
    own_card = card is not None
    if card is None:
        if model_name:
            reproduces = _reproduces(model_name, public, asked=True)
        else:
            reproduces = _reproduces(trained_name(folder), public, asked=False)
        card = model_card(public, repo_id, license, reproduces=reproduces, analyses=list(analyses.values()))
    elif analyses:  # a card someone wrote: as it is, but showing the analyses published with it
        card = _with_analyses(card, _card_environment().get_template("card_analyses.md.j2").render(
            analyses=list(analyses.values())))
    files = {WEIGHTS: weights, CONFIG: (json.dumps(public, indent=2) + "\n").encode("utf-8"),
             CARD: card.encode("utf-8")}
    for analysis in analyses.values():
        files.update(analysis.files)
    return Upload(files, card, folder, own_card)


@dataclass
class Analysis:
    """One report as published: its numbers (report.json without local paths) and its figures,
    by their paths in the repository, and what the card says of it."""

    name: str
    about: str
    data: str
    figures: list[str]
    files: dict[str, bytes]


def published_analyses(folder: str | Path) -> list[str]:
    """The analyzers whose reports a Hub-ready or pulled folder holds (analyses/<analyzer>/)."""
    return sorted(p.parent.name for p in Path(folder).glob(f"{ANALYSES}/*/report.json"))


def _analyses(source: Path, weights_sha256: str) -> list[Analysis]:
    """The reports in `source` (one report folder, or a folder of them), checked to be of the
    weights being published. The self-contained pages stay home: they show local paths, and the
    Hub does not display HTML; report.json and the figures carry the numbers and the pictures."""
    records = [source / "report.json"] if (source / "report.json").is_file() else sorted(source.glob("*/report.json"))
    if not records:
        raise ZooError(f"{source} holds no zoo report: give a folder `zoo analyze` wrote (reports/<model>, or one "
                       "analyzer's folder in it)")
    found = []
    for record_file in records:
        folder = record_file.parent
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
            meta, figures = record["meta"], [str(f) for f in record["files"]["figures"]]
            name, made_from = str(meta["analyzer"]), (meta.get("model") or {}).get("weights_sha256")
            if not all(re.fullmatch(r"\w[\w.-]*", part) for part in (name, *figures)):
                raise ZooError(f"{folder}: its analyzer or figure names cannot be repository paths")
            images = {figure: (folder / figure).read_bytes() for figure in figures}  # names checked: inside folder
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ZooError(f"{folder} is not a complete zoo report ({exc.__class__.__name__}: {exc}): make it again "
                           "with `zoo analyze`") from None
        if made_from != weights_sha256:
            raise ZooError(f"{folder} was made from other weights (sha256 {str(made_from)[:12]}...) than the ones "
                           f"published ({weights_sha256[:12]}...): analyse this checkpoint again, or leave it out")
        base = f"{ANALYSES}/{name}"
        # the summary holds results (texts of examples among them: "/* ..." is code, not a path)
        public = {**record, "meta": _without_local_paths({**meta, "model": {k: v for k, v in meta["model"].items()
                                                                              if k != "checkpoint"}}),
                  "files": {"arrays": None, "figures": figures, "html": None}}
        found.append(Analysis(
            name=name, about=str(meta.get("about", "")), figures=[f"{base}/{f}" for f in figures], data=data_line(meta),
            files={f"{base}/report.json": (json.dumps(public, indent=2) + "\n").encode("utf-8"),
                   **{f"{base}/{f}": image for f, image in images.items()}}))
    return found


def _with_analyses(card: str, section: str) -> str:
    """`card` with its "## Analyses" section replaced by `section` (which the zoo writes), or
    `section` added before "## Use" (or at the end): the rest stays as its author wrote it."""
    found = re.search(r"^## Analyses\n.*?(?=^## |\Z)", card, re.S | re.M)
    if found:
        return card[:found.start()] + section + card[found.end():]
    use = re.search(r"^## Use\n", card, re.M)
    at = use.start() if use else len(card)
    return card[:at] + ("" if use else "\n") + section + card[at:]


LOCAL_PATH = re.compile(r"(?:~?/|[A-Za-z]:[\\/])[^\s*?]+")  # /home/a/x, ~/x, C:\\x; not "/* ..." or "/"


def _without_local_paths(value: Any) -> Any:
    """`value` (a report's meta: what produced it) with every absolute path (the data file, an
    n-gram model a parameter named) cut to its last part: what was analysed stays readable,
    where it was on someone's disk does not."""
    if isinstance(value, dict):
        return {k: _without_local_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_local_paths(v) for v in value]
    if isinstance(value, str) and LOCAL_PATH.fullmatch(value):
        return re.split(r"[\\/]", value.rstrip("/\\"))[-1] or value
    return value


def _own_card(folder: Path, repo_id: str) -> str | None:
    """The README.md of a Hub-ready folder, unless its loading lines (`hf:ORG/NAME@`) name another
    repository than `repo_id` (a pulled checkpoint published again elsewhere gets a new card)."""
    try:
        card = (folder / CARD).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    named = set(re.findall(r"hf:([\w.-]+/[\w.-]+)@", card))
    return card if named <= {repo_id} else None


def save(upload: Upload, directory: str | Path, overwrite_card: bool = False) -> list[str]:
    """Write `upload` into `directory` as the Hub repository would hold it: a folder that `hf
    upload` publishes as it is, and a checkpoint every zoo command loads. As in a push, an existing
    card is kept unless `overwrite_card`. Returns the files written. The checkpoint it came from,
    a training run and a training checkpoint are never written over: their config.json holds more
    than the public one."""
    target = Path(directory)
    in_place = target.exists() and target.resolve() == upload.source.resolve()
    # A Hub-ready folder may be written again in place (to add analyses): its config.json is
    # already the public one, so nothing is lost. A training checkpoint's is not, and a shipped
    # or downloaded checkpoint is never written.
    if in_place and (is_shared(target) or _config_or_empty(target) != json.loads(upload.files[CONFIG])):
        raise ZooError(f"{target} is the checkpoint being published: choose another directory")
    existing = _config_or_empty(target)
    if is_run(target) or "training" in existing:
        raise ZooError(f"{target} holds a training run or checkpoint: choose another directory")
    if existing.get("format") != FORMAT and any((target / name).exists() for name in (WEIGHTS, CONFIG)):
        # an earlier export is replaced; anyone else's weights or config (a transformers model) never
        raise ZooError(f"{target} holds a {WEIGHTS} or {CONFIG} that is not a zoo checkpoint's: "
                       "choose another directory")
    new_weights = json.loads(upload.files[CONFIG]).get("weights_sha256")
    if existing and existing.get("weights_sha256") != new_weights and (target / CARD).exists() and not overwrite_card:
        raise ZooError(f"{target} holds the export of other weights, whose card ({CARD}) would be kept and describe "
                       "them: choose another directory, or pass --overwrite-card to replace the card too")
    make_folder(target)
    files = {name: data for name, data in upload.files.items()  # in place, the folder's own card is refreshed
             if not (name == CARD and (target / CARD).exists() and not overwrite_card
                     and not (in_place and upload.own_card))}
    for name, data in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)  # analyses/<analyzer>/
        atomic_write(target / name, data)
    return sorted(files)


def _config_or_empty(folder: Path) -> dict[str, Any]:
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _public_config(config: dict[str, Any]) -> dict[str, Any]:
    """config.json as published: no optimizer state, and no local file paths (a dataset read from
    a file keeps its name and checksum, not where it was on the trainer's disk)."""
    public = {k: v for k, v in config.items() if k != "training"}
    dataset = dict(public.get("dataset") or {})
    source = str(dataset.get("source", ""))
    if source and (source.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", source) or "/" in source):
        dataset["source"] = dataset.get("name") or Path(source).name
    if dataset:
        public["dataset"] = dataset
    leftover = [key for key, value in _walk(public)
                if isinstance(value, str) and value.startswith(("/home/", "/root/", "/tmp/", "/work/"))]
    if leftover:
        raise ZooError(f"config.json still holds local paths ({', '.join(leftover)}): refusing to publish it")
    return public


# Where a registry `reference.source` comes from, as a card cites it.
SOURCES = {
    "karpathy2015-table1": "Karpathy, Johnson & Fei-Fei (2015), "
                           "*Visualizing and Understanding Recurrent Networks*, Table 1",
    "madsen2019-distill": "Madsen (2019), *Visualizing memorization in RNNs* (Distill), "
                                       "the table of its models",
}


def _run_history(checkpoint: Path) -> dict[str, Any]:
    """``{"history": [...]}``: each epoch's learning rate, training and validation figures and
    time, from the run a checkpoint belongs to, up to the checkpoint's epoch; nothing for a
    checkpoint outside a run."""
    from .runs import read_run, run_of

    run = run_of(checkpoint)
    if run is None:  # a checkpoint of its own: the history its config holds, if any, stays
        return {}
    try:
        history = read_run(run)["history"]
        epoch = int(json.loads((checkpoint / CONFIG).read_text(encoding="utf-8"))["metrics"]["epoch"])
    except (OSError, ValueError, KeyError, TypeError, ZooError):
        return {}
    keep = ("epoch", "lr", "train_nats", "valid_nats", "seconds")
    return {"history": [{k: h[k] for k in keep if k in h} for h in history if int(h["epoch"]) <= epoch]}


def _reproduces(name: str | None, config: dict[str, Any], asked: bool) -> dict[str, Any] | None:
    """The registry entry `name`'s published figure, for the card of the checkpoint `config`; None
    where there is none, unless the user `asked` for it. A checkpoint of another shape would make
    the card lie; one trained on other text than the entry's dataset cites it only if asked."""
    from .registry import registry

    spec = registry().models.get(name) if name else None
    if spec is None or not spec.reference:
        if asked:
            raise ZooError(f"{name} is not a registry model with a published figure (`zoo list` names them)")
        return None
    trained_on = str((config.get("dataset") or {}).get("name", ""))
    if not asked and spec.dataset not in (trained_on, Path(trained_on).stem):
        return None  # the entry's shape trained on other text: its figure is not this model's to claim
    model = config.get("model") or {}
    shape = (model.get("arch"), model.get("layers"), model.get("hidden"))
    if shape != (spec.arch, spec.layers, spec.hidden):
        raise ZooError(f"the checkpoint is a {shape[1]}x{shape[2]} {shape[0]}, not {name} "
                       f"({spec.layers}x{spec.hidden} {spec.arch}): it cannot stand for that entry")
    reference = {"budget": None, "test_ce": None, "accuracy": None, **spec.reference}
    return {"model": name, "arch": spec.arch, "layers": spec.layers, "hidden": spec.hidden, "dataset": spec.dataset,
            "citation": SOURCES.get(reference["source"], reference["source"]), **reference}


def _walk(value: Any, prefix: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{prefix}[{i}]")
    else:
        yield prefix, value


def model_card(config: dict[str, Any], repo_id: str, license: str = "mit",
               reproduces: dict[str, Any] | None = None, analyses: list[Analysis] | None = None) -> str:
    """A Hub model card: YAML front matter (library, tags, dataset, license, model-index metrics)
    and what a person needs: what the model is, how it was trained, the published figure it
    reproduces (`reproduces`: a registry entry's reference), what the `analyses` published with
    it show, how to load it."""
    import yaml

    from . import __version__

    model = config.get("model") or {}
    dataset = config.get("dataset") or {}
    recipe = config.get("recipe") or {}
    metrics = config.get("metrics") or {}
    arch = model.get("arch", "?")
    size = f"{dataset['characters']:,}" if isinstance(dataset.get("characters"), int) else "?"
    from .tasks import DEFAULT, get_task

    made_for = get_task(model.get("task") or DEFAULT)
    said = made_for.card(config)
    unit, task = made_for.unit, said["hub_task"]
    # The Hub's `datasets:` wants an identifier, not the file the run read: the registry's name
    # for the text a reproduced figure was measured on, else the file's name without its suffix.
    name = dataset.get("name")
    dataset_id = (reproduces or {}).get("dataset") or (Path(str(name)).stem if name else None)
    results = []  # model-index: one result per split the checkpoint was scored on
    for split, hub_split in (("test", "test"), ("valid", "validation")):
        scores = []
        if f"{split}_nats" in metrics:
            scores.append({"type": "cross-entropy", "name": f"{said['figure']} ({unit})",
                           "value": round(float(metrics[f"{split}_nats"]), 4)})
        if f"{split}_accuracy" in metrics:
            scores.append({"type": "accuracy", "name": "word accuracy",
                           "value": round(float(metrics[f"{split}_accuracy"]), 4)})
        if scores:
            results.append({"task": dict(task), "dataset": {"name": name or "unknown", "type": dataset_id or "unknown",
                                                            "split": hub_split},  # copies: no YAML anchors
                            "metrics": scores})
    front = {"library_name": "rnn-zoo", "license": license,
             "tags": ["rnn-zoo", arch, "character-level", said["tag"], "recurrent"],
             "datasets": [dataset_id] if dataset_id else [],
             "model-index": [{"name": repo_id.split("/")[-1], "results": results}] if results else []}
    return _card_template().render(
        front_matter=yaml.safe_dump(front, sort_keys=False).strip(), name=repo_id.split("/")[-1], repo_id=repo_id,
        said=said, unit=unit, size=size, version=config.get("zoo_version", __version__),
        words=model.get("classes") is not None, sha256=str(dataset.get("sha256", "?")),
        model={"arch": arch, "input": "onehot", **model}, dataset={"name": "its dataset", "split": "?", **dataset},
        recipe=recipe, metrics={"epoch": "?", **metrics}, reproduces=reproduces,
        valid_nats=float(metrics.get("valid_nats", float("nan"))),
        test_nats=_number(metrics.get("test_nats")), test_accuracy=_number(metrics.get("test_accuracy")),
        test_se=_number(metrics.get("test_se_nats")), storage=config.get("storage"), history=_history_line(config),
        analyses=analyses or [])


def _history_line(config: dict[str, Any]) -> str:
    """The validation figure of every epoch, as a card shows it (``1 2.657, 2 1.835, ...``)."""
    return ", ".join(f"{h['epoch']} {h['valid_nats']:.3f}" for h in config.get("history") or [] if "valid_nats" in h)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _card_template():
    return _card_environment().get_template("model_card.md.j2")


def _card_environment():
    import jinja2

    from .report import TEMPLATES

    class Unknown(jinja2.Undefined):
        """A field the checkpoint does not record reads as '?'."""

        def __str__(self) -> str:
            return "?"

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=Unknown,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def push(upload: Upload, repo_id: str, token: str | None = None, private: bool = False,
         overwrite_card: bool = False) -> tuple[str, list[str]]:
    """Publish `upload` in one commit; returns (the commit's 40-hex id, the paths committed). An
    existing card is kept unless `overwrite_card`."""
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.utils import logging

    logging.set_verbosity_error()
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        existing = set(api.list_repo_files(repo_id))
        files = {name: data for name, data in upload.files.items()
                 if not (name == CARD and CARD in existing and not overwrite_card)}
        commit = api.create_commit(repo_id, operations=[CommitOperationAdd(name, data) for name, data in files.items()],
                                   commit_message="Upload a checkpoint with RNN Zoo")
    except Exception as exc:
        name, text = type(exc).__name__, (str(exc).splitlines() or [""])[0]
        if "401" in text or "403" in text or name in ("LocalTokenNotFoundError",):
            raise ZooError(f"the Hub refused the push to {repo_id}: log in with `hf auth login` or set HF_TOKEN "
                           "(with write access)") from None
        raise ZooError(f"cannot push to {repo_id}: {name}: {text}") from None
    return commit.oid, sorted(files)
