"""Checkpoints: a directory with ``model.safetensors`` (weights) and ``config.json`` (everything else).

``config.json`` holds what rebuilds the model without any code of the run that made it: the
architecture, hyper-parameters and conventions (`ModelConfig`), the vocabulary (and, for a head
that predicts words rather than characters, their list, ``words``), the zoo version
and the weights' sha256, plus optional sections later stages fill in (dataset, recipe, metrics).
Loading never unpickles: a ``torch.save`` pickle, a truncated or corrupt file, or weights that do
not fit the config are refused with one line saying which.

Both files are written atomically, weights first and config last; the config records the
weights' sha256, so a write interrupted between the two is detected on load instead of pairing
new weights with an old config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .config import ModelConfig
from .errors import ZooError
from .fileio import atomic_write, sha256_bytes

FORMAT = "zoo-checkpoint"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def checkpoint_header() -> dict[str, Any]:
    """The fields that open every checkpoint's config.json, a baseline's included."""
    from . import __version__

    return {"format": FORMAT, "format_version": FORMAT_VERSION, "zoo_version": __version__}


def save_checkpoint(model: Any, directory: str | Path, **sections: Any) -> Path:
    """Write `model` to `directory` (created if needed); `sections` (``dataset=...``,
    ``recipe=...``, ``metrics=...``) are stored in config.json as they are (JSON-able). A
    checkpoint already there is replaced; anything else is refused (`_check_target`)."""
    directory = Path(directory)
    _check_target(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    weights = safetensors_bytes(tensors, metadata={"format": "pt", "zoo_arch": model.config.arch})
    from .plugins import plugins

    provider = plugins().provider("architecture", model.config.arch)
    config = {
        **checkpoint_header(),
        "model": model.config.to_dict(),
        **({"plugin": provider} if provider else {}),
        "vocab": model.vocab.to_dict() if getattr(model, "vocab", None) is not None else None,
        **({"words": model.words.to_list()} if getattr(model, "words", None) is not None else {}),
        "weights_sha256": sha256_bytes(weights),
        **sections,
    }
    try:
        text = json.dumps(config, indent=2, sort_keys=False)
    except TypeError as exc:
        raise ZooError(f"checkpoint sections must be JSON-serializable: {exc}") from exc
    atomic_write(directory / WEIGHTS, weights)
    atomic_write(directory / CONFIG, text + "\n")
    return directory


def _check_target(directory: Path) -> None:
    """Refuse a folder where writing config.json and model.safetensors would overwrite what is
    not a plain checkpoint: a file of the user's, a training run, or one of its epochs (whose
    optimizer state would no longer match the weights, so it would neither load nor resume)."""
    from .runs import is_run

    if directory.exists() and not directory.is_dir():
        raise ZooError(f"cannot write a checkpoint to {directory}: it is a file")
    if is_run(directory):
        raise ZooError(f"cannot write a checkpoint to {directory}: it holds a training run; choose a folder of its own")
    if (directory / CONFIG).exists():
        if is_shared(directory):
            raise ZooError(f"cannot write a checkpoint to {directory}: it is a released, shipped or downloaded "
                           "model's; choose a folder of its own")
        try:
            existing = read_config(directory)
        except ZooError:
            raise ZooError(f"cannot write a checkpoint to {directory}: its {CONFIG} is not a zoo checkpoint's "
                           "and would be overwritten; choose another folder") from None
        if "training" in existing:
            raise ZooError(f"cannot write a checkpoint to {directory}: it is an epoch of a training run; "
                           "choose a folder of its own")
    elif (directory / WEIGHTS).exists():
        raise ZooError(f"cannot write a checkpoint to {directory}: its {WEIGHTS} belongs to no zoo checkpoint "
                       "and would be overwritten; choose another folder")


def safetensors_bytes(tensors: dict[str, Any], metadata: dict[str, str] | None = None) -> bytes:
    """``safetensors.torch.save`` with a header in one order, so that the bytes (and their sha256)
    depend on the tensors and metadata alone: the library writes its metadata from a Rust HashMap,
    whose order changes from call to call and process to process. The tensors' places in the file
    are the library's own (sorted); only the header's JSON is written again, sorted."""
    import safetensors.torch

    data = safetensors.torch.save(tensors, metadata=metadata)
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    meta = header.pop("__metadata__", None)
    ordered = {**({"__metadata__": dict(sorted(meta.items()))} if meta else {}),
               **dict(sorted(header.items(), key=lambda item: (item[1]["data_offsets"], item[0])))}
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # as the library pads it: the tensors' data stays 8-byte aligned
    return len(text).to_bytes(8, "little") + text + data[8 + size:]


def checkpoint_dir(directory: str | Path) -> Path:
    """`directory` itself, or for a training run's directory its best epoch (`zoo.runs`)."""
    from .runs import best_checkpoint

    return best_checkpoint(directory)


def is_shared(directory: str | Path) -> bool:
    """Whether a checkpoint belongs to someone else, so that commands read it and never write into
    it: a download in the Hugging Face cache (``models--org--name/snapshots/<commit>``, whose files
    link into the cache's blobs), a checkpoint shipped inside the zoo package, or a released one."""
    from .registry import PRETRAINED, RELEASED

    path = checkpoint_dir(directory).resolve()
    in_hub_cache = path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--")
    return in_hub_cache or path.is_relative_to(PRETRAINED.resolve()) or path.is_relative_to(RELEASED)


def read_config(directory: str | Path) -> dict[str, Any]:
    """The checkpoint's config.json, checked; no torch needed."""
    directory = checkpoint_dir(directory)
    path = directory / CONFIG
    if not directory.is_dir():
        raise ZooError(f"no checkpoint at {directory}: not a directory")
    if not path.is_file():
        raise ZooError(f"no checkpoint at {directory}: {CONFIG} is missing{_pickles_found(directory)}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZooError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ZooError(f"{path} is not a zoo checkpoint config (no \"format\": \"{FORMAT}\")")
    if config.get("format_version") != FORMAT_VERSION:
        raise ZooError(f"{path} has format_version {config.get('format_version')!r}; this zoo reads {FORMAT_VERSION}")
    if not isinstance(config.get("model"), dict) and not isinstance(config.get("baseline"), dict):
        raise ZooError(f"{path} has neither a \"model\" nor a \"baseline\" section")
    return config


def update_config(directory: str | Path, **sections: Any) -> Path:
    """Merge `sections` into the checkpoint's config.json (dicts merge one level deep), atomically."""
    directory = checkpoint_dir(directory)
    config = read_config(directory)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    atomic_write(directory / CONFIG, json.dumps(config, indent=2) + "\n")
    return directory


def _is_pickle(data: bytes) -> bool:
    """torch.save's zip container, or a bare pickle (protocol 2+: 0x80, version). A safetensors
    file starts with an 8-byte header length, which can begin with those bytes too, then '{'."""
    if data.startswith(b"PK\x03\x04"):
        return True
    return data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") and data[8:9] != b"{"


PICKLED = (".bin", ".pt", ".pth", ".ckpt")  # other libraries' weight files, pickles: never loaded


def pickled_files(directory: Path) -> list[str]:
    """The pickled weight files a folder holds (someone else's checkpoint), to name in a refusal."""
    return sorted(p.name for p in directory.iterdir() if p.suffix in PICKLED)


def _pickles_found(directory: Path) -> str:
    others = pickled_files(directory)
    return f" (found {', '.join(others)}: pickled weights, which zoo does not load)" if others else ""


MAX_HEADER = 100 << 20  # a safetensors header (names, shapes, offsets) larger than this is not a model's


def _weights_header(path: Path) -> dict[str, tuple[int, ...]]:
    """The tensors' shapes from a safetensors file's header, read without its data, so that a
    file whose tensors do not fit the config is refused before anything is allocated."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(16)
            if _is_pickle(head):
                raise ZooError(f"{path} is a pickle (torch.save) file, not safetensors; zoo never unpickles weights")
            length = int.from_bytes(head[:8], "little")
            if len(head) < 8 or not 2 <= length <= min(MAX_HEADER, size - 8):
                raise ValueError(f"a header of {length:,} bytes in a file of {size:,}")
            handle.seek(8)
            header = json.loads(handle.read(length))
        shapes = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, stop = entry["data_offsets"]
            if not 0 <= begin <= stop <= size - 8 - length:
                raise ValueError(f"{name} lies outside the file")
            shapes[name] = tuple(int(d) for d in entry["shape"])
        return shapes
    except ZooError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ZooError(f"{path} is not a valid safetensors file: {exc}") from None


def _stream_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        return None


def _read_weights(directory: Path, expected_sha256: str | None, expected: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """The checkpoint's tensors, checked in the order that costs least: the header's shapes against
    the config's (`expected`, from a model built on the meta device), the file's size against this
    machine's memory, the sha256 read in pieces; only then are the tensors loaded (memory-mapped)."""
    import safetensors.torch

    path = directory / WEIGHTS
    if not path.is_file():
        raise ZooError(f"no checkpoint at {directory}: {WEIGHTS} is missing{_pickles_found(directory)}")
    found = _weights_header(path)
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}")
        if wrong:
            k = wrong[0]
            parts.append(f"{k} is {list(found[k])}, the config needs {list(expected[k])}")
        raise ZooError(f"the weights in {path} do not fit its config: {'; '.join(parts)}")
    memory = _memory_bytes()
    size = path.stat().st_size
    if memory and size > memory:
        raise ZooError(f"{path} holds {size / 2**30:.1f} GiB of weights, more than this machine's "
                       f"{memory / 2**30:.1f} GiB of memory")
    if expected_sha256 and _stream_sha256(path) != expected_sha256:
        raise ZooError(f"{path} does not match the sha256 in {CONFIG}: the file is corrupt or from another checkpoint")
    if not expected_sha256:  # loaded, as a checkpoint of another tool may lack it, but never silently
        import warnings

        warnings.warn(f"{directory / CONFIG} records no weights_sha256: {WEIGHTS} is loaded unverified", stacklevel=3)
    try:
        tensors = safetensors.torch.load_file(path)
    except Exception as exc:  # safetensors raises its own error types for every malformation
        raise ZooError(f"{path} is not a valid safetensors file: {exc}") from exc
    _check_finite(path, tensors)
    return tensors


def _check_finite(path: Path, tensors: dict[str, Any]) -> None:
    """Refuse weights holding NaN or infinity (a run that diverged, a damaged or hostile file),
    which would load and then answer NaN for every character; the first bad tensor is named."""
    import torch

    bad = [name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        more = f" (and {len(bad) - 1} other tensor{'s' if len(bad) > 2 else ''})" if len(bad) > 1 else ""
        raise ZooError(f"{path} holds NaN or infinite weights, first in {bad[0]}{more}: "
                       "the checkpoint is damaged or its training diverged")


def check_provider(directory: Path, arch: str, recorded: dict[str, Any] | None, kind: str = "architecture") -> None:
    """When the plugin that made a checkpoint is gone, say which package to install (from what
    the checkpoint recorded) instead of suggesting an architecture (or, with `kind`, a
    baseline) with a similar name."""
    from .plugins import plugins

    found = plugins()
    if arch in found.entries[kind] or (kind, arch) in found.conflicts or not isinstance(recorded, dict):
        return
    dist, version = recorded.get("distribution"), recorded.get("version")
    if not dist:
        return
    for info in found.info.values():
        if info.distribution == dist and info.error:
            raise ZooError(f"{directory} needs {kind} '{arch}' from {dist}, "
                           f"which is installed but failed to load: {info.error}")
        if info.distribution == dist:
            return  # installed and working, yet without this architecture: the usual error says the rest
    raise ZooError(f"{directory} needs {' '.join(filter(None, (dist, version)))}: {_how_to_install(recorded)}")


def _how_to_install(recorded: dict[str, Any]) -> str:
    """How to get a checkpoint's plugin back: a command only where the checkpoint says where its
    distribution came from (another package under the same name could be fetched otherwise)."""
    dist, version, source = recorded.get("distribution"), recorded.get("version"), recorded.get("source")
    pinned = f"{dist}=={version}" if version else dist
    if source == "a package index":
        return f"pip install '{pinned}' (it was installed from a package index)"
    if source == "a local path":
        return f"install the distribution {pinned} from the local path it was installed from"
    if source:
        return f"pip install '{dist} @ {source}'"
    return (f"install the distribution {' '.join(filter(None, (dist, version)))} "
            "(the checkpoint does not say where it came from)")


def load_checkpoint(directory: str | Path, device: str = "cpu") -> Any:
    """The model saved in `directory`, in eval mode, with its vocabulary attached. A baseline's
    directory (config.json has a "baseline" section) loads through the plugin that made it."""
    from .registry import create_model
    from .vocab import Vocab, WordVocab

    directory = checkpoint_dir(directory)
    config = read_config(directory)
    if "baseline" in config:  # a baseline's directory: its plugin reads it
        from .plugins import plugins

        check_provider(directory, config["baseline"].get("name"), config.get("plugin"), "baseline")
        return plugins().get("baseline", config["baseline"]["name"]).load().load(directory)
    model_config = ModelConfig.from_dict(config["model"])
    check_provider(directory, model_config.arch, config.get("plugin"))
    vocab = Vocab.from_dict(config["vocab"]) if config.get("vocab") else None
    if vocab is not None and len(vocab.chars) != model_config.vocab_size:
        raise ZooError(f"{directory / CONFIG}: its vocabulary has {len(vocab.chars)} characters, "
                       f"its model {model_config.vocab_size}")
    import torch

    with torch.device("meta"):  # the shapes the config asks for, without allocating them
        shapes = {k: tuple(v.shape) for k, v in create_model(model_config, vocab=vocab).state_dict().items()}
    tensors = _read_weights(directory, config.get("weights_sha256"), shapes)
    model = create_model(model_config, vocab=vocab)
    model.load_state_dict(tensors, strict=True)
    if model_config.classes is not None:  # a head over named classes (a task's words)
        words = config.get("words")
        if not isinstance(words, list) or len(words) != model_config.classes:
            raise ZooError(f"{directory / CONFIG}: a model that predicts {model_config.classes} classes needs their "
                           'names ("words")')
        model.words = WordVocab(words)
    return model.to(device).eval()
