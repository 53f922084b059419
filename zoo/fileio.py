"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)  # read once: mkstemp creates files 0600, while a written file should get the usual mode


def usual_mode(directory: bool = False) -> int:
    """The permissions a plain ``open`` (or ``mkdir``) would give under the process's umask."""
    return (0o777 if directory else 0o666) & ~_UMASK


def zoo_home() -> Path:
    """Where the zoo keeps downloads and caches: ``$ZOO_HOME``, default ``~/.cache/zoo``."""
    return Path(os.environ.get("ZOO_HOME") or Path.home() / ".cache" / "zoo")


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write `data` to `path` through a temporary file in the same directory and a rename.

    An interrupted write leaves the previous file untouched (and no stray temporary file)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, usual_mode())
        _write_to_disk(fd, data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_to_disk(fd: int, data: bytes) -> None:
    """Write `data` to the open file `fd` and sync it, then close it: where a full disk (ENOSPC) shows."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def make_folder(path: str | Path, what: str = "the folder", hint: str = "") -> Path:
    """`path` made (with its parents) if missing; a path the user chose that cannot be made is one
    line naming it (and `hint`, what to do), not an OSError blamed on whoever tried."""
    from .errors import ZooError

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZooError(f"cannot make {what} {path}: {exc.strerror or exc}" + (f"; {hint}" if hint else "")) from None
    return path


@contextlib.contextmanager
def folder_for(path: str | Path, what: str = "the folder", hint: str = ""):
    """`path` made (`make_folder`) for the work inside the block, and the folders made here
    removed again if the work leaves them empty (it failed before writing anything)."""
    path = Path(path)
    made = [d for d in (path, *path.parents) if not d.exists()]  # innermost first
    make_folder(path, what, hint)
    try:
        yield path
    finally:
        for folder in made:  # one that holds something stays, with those above it
            if not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def hold_folder(path: str | Path, doing: str):
    """Hold `path` (a folder a command writes, perhaps replacing it whole) against a second process
    doing the same: the kernel's advisory lock on a file named after the folder's absolute path in
    ``$ZOO_HOME/locks``, so that nothing is added beside the user's files and a rename of the folder
    does not lose the lock. The second is refused in one line saying the folder is being `doing`.
    Where `fcntl` does not exist or $ZOO_HOME cannot be written, nothing is held."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    name = hashlib.sha256(str(Path(path).resolve()).encode("utf-8")).hexdigest()[:32]
    try:
        locks = zoo_home() / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        handle = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, usual_mode())
    except OSError:  # a read-only home costs the lock, not the command
        yield
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            from .errors import ZooError

            raise ZooError(f"{path} is being {doing}: wait for it to end, or choose another --out") from None
        yield
    finally:
        os.close(handle)
