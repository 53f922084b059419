"""A training run's folder, and the one place that knows its layout.

    RUN/run.json          {"last": "epochs/0012", "best": "epochs/0009", "model": NAME, "history": [...]}
    RUN/epochs/NNNN/      a checkpoint per kept epoch (the last and the best), with its training state
    RUN/steps/NNNNNNNN/   snapshots every --snapshot-every steps, when asked for

run.json is data anyone may have edited: every path read from it must lie inside the run
(`entry`), and only the run's own entries are ever written or removed. A process training the run
holds it (`hold_run`). No torch here: `zoo info` and `zoo eval` read runs without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from .errors import ZooError
from .fileio import atomic_write, folder_for

RUN_FILE = "run.json"
RUN_ENTRIES = {RUN_FILE, "epochs", "steps"}  # all that training writes into a run folder
RUN_FILE_TMP = re.compile(rf"\.{re.escape(RUN_FILE)}\..+\.tmp")  # atomic_write's temporary run.json
EPOCH_ENTRY = re.compile(r"epochs/(\d{4,}|\.\d{4,}\.tmp)")  # an epoch's folder, or one being written


def epoch_name(epoch: int) -> str:
    """An epoch's entry in the run, as run.json names it: ``epochs/0007``."""
    return f"epochs/{epoch:04d}"


def epoch_tmp(run: Path, epoch: int) -> Path:
    """Where an epoch is written before it is renamed into place."""
    return run / "epochs" / f".{epoch:04d}.tmp"


def step_folder(run: Path, step: int) -> Path:
    return run / "steps" / f"{step:08d}"


def is_run(folder: str | Path) -> bool:
    return (Path(folder) / RUN_FILE).is_file()


def entry(run: str | Path, pointer: Any, key: str = "last") -> Path:
    """The folder that `pointer` (run.json's "last" or "best", e.g. ``epochs/0007``) names in the
    run folder `run`. run.json is data anyone may have edited: a pointer that leads outside the run
    (``../elsewhere``, an absolute path, a link out; symlinks resolved) or to the run folder
    itself is refused in one line, so that no command reads, writes or deletes anything there."""
    run = Path(run)
    if isinstance(pointer, str) and pointer.strip() and "\0" not in pointer and not Path(pointer).is_absolute():
        root, target = run.resolve(), (run / pointer).resolve()
        if target != root and target.is_relative_to(root):
            return run / pointer
    raise ZooError(f"{run / 'run.json'}: \"{key}\" is {pointer!r}, not a folder inside {run}: refusing this run folder")


def best_checkpoint(directory: str | Path) -> Path:
    """`directory` itself, or for a training run's directory (it has run.json) its best epoch,
    which must lie inside the run (`entry`)."""
    directory = Path(directory)
    record = _record(directory / RUN_FILE)
    if record is None:
        return directory
    key = "best" if record.get("best") else "last"
    return entry(directory, record.get(key), key)


def _record(path: Path, needs_history: bool = False) -> dict[str, Any] | None:
    """run.json read as an object (with its "history" list where `needs_history`), or one line
    saying the run folder is damaged; None where there is no such file."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZooError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(record, dict) or (needs_history and not isinstance(record.get("history"), list)):
        raise ZooError(f"{path} is not a run record (\"last\", \"best\", \"history\"): the run folder is damaged")
    return record


def read_run(run: str | Path) -> dict[str, Any] | None:
    """The run's record (run.json), checked: its "last" and "best" must name folders inside the run
    (`entry`), as everything that follows them reads, writes or deletes there. None where
    there is no record."""
    record = _record(Path(run) / RUN_FILE, needs_history=True)
    if record is None:
        return None
    entry(run, record.get("last"), "last")
    if record.get("best") is not None:
        entry(run, record["best"], "best")
    return record


def write_record(run: Path, last: str, best: str | None, model_name: str, history: list[dict[str, Any]]) -> None:
    """Point run.json at the run's last and best epochs, with the history so far (atomically)."""
    atomic_write(run / RUN_FILE, json.dumps({"last": last, "best": best, "model": model_name, "history": history},
                                            indent=2) + "\n")


def run_of(checkpoint: str | Path) -> Path | None:
    """The run a checkpoint (RUN/epochs/NNNN, RUN/steps/NNNNNNNN) belongs to, or None."""
    checkpoint = Path(checkpoint)
    run = checkpoint.parent.parent
    return run if checkpoint.parent.name in ("epochs", "steps") and is_run(run) else None


def trained_name(checkpoint: str | Path) -> str | None:
    """The --model a run was trained as, for a checkpoint inside it."""
    run = run_of(checkpoint)
    try:
        name = json.loads((run / RUN_FILE).read_text(encoding="utf-8")).get("model") if run else None
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def checkpoints(run: str | Path) -> list[Path]:
    """Every checkpoint a run holds, step snapshots and kept epochs, in folder order."""
    run = Path(run)
    return sorted(f for f in [*run.glob("steps/*"), *run.glob("epochs/*")] if (f / "config.json").is_file())


def drop_epoch(run: Path, name: str) -> None:
    """Delete the run's epoch folder `name`: only an ``epochs/NNNN`` (or ``epochs/.NNNN.tmp``) of
    the run itself, never another path a run.json edited by hand names, nor through a link."""
    path = run / name
    if EPOCH_ENTRY.fullmatch(name) and path.resolve() == run.resolve() / name:
        shutil.rmtree(path, ignore_errors=True)


def clean_leftovers(run: Path, keep: set[Path]) -> None:
    """Remove what a run killed in the middle of a write leaves, and nothing else: temporaries of
    run.json, epoch folders still under their temporary name, and epoch folders that run.json does
    not name (`keep`: written but not yet recorded, or left by an unfinished pruning). Only these
    names, only in the run's own folders; under torchrun, rank 0 alone."""
    if os.environ.get("RANK", "0") != "0" or not run.is_dir():
        return
    for path in run.iterdir():
        if RUN_FILE_TMP.fullmatch(path.name) and not path.is_dir():
            path.unlink(missing_ok=True)
    if (run / "epochs").is_dir():
        for path in (run / "epochs").iterdir():
            if path.resolve() not in keep:
                drop_epoch(run, f"epochs/{path.name}")


def check_own_folders(run: Path) -> None:
    """Refuse a run whose epochs/ or steps/ is a link elsewhere: training writes and deletes there."""
    for name in ("epochs", "steps"):
        if (run / name).is_symlink():
            raise ZooError(f"{run / name} is a link, not the run's own folder: training writes only inside {run}")


@contextlib.contextmanager
def hold_run(run: Path):
    """Hold the run directory for this process while it trains: a second `zoo train` on the same
    --out (a --resume started twice, say) is refused in one line instead of interleaving its
    epochs with this one's. The lock is the kernel's advisory lock on the directory itself
    (`fcntl.flock`), so nothing is added to the run, and it ends with the process however that
    ends. Folders made here and left empty (the training failed before its first epoch) are
    removed. Under torchrun, rank 0 holds it; where `fcntl` does not exist, nothing is held."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        fcntl = None
    if fcntl is None or os.environ.get("RANK", "0") != "0":
        yield
        return
    with folder_for(run, "the run folder"):
        handle = os.open(run, os.O_RDONLY)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ZooError(f"{run} is being trained by another process: wait for it to end, "
                               "or choose another --out") from None
            yield
        finally:
            os.close(handle)


