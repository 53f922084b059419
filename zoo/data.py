"""Text in, splits and batches out: named datasets (downloaded once, checksummed), local files,
contiguous train/validation/test splits, and truncated-BPTT batching.

Named datasets live in `registry.yaml` (``datasets:``) and are cached under ``$ZOO_HOME/datasets``
(default ``~/.cache/zoo``). A dataset whose checksum was not known when its entry was written is
pinned by its first download: the cache keeps the sha256 it saw, and a later, different file is
an error rather than a silent change of data.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ZooError
from .fileio import atomic_write, make_folder, zoo_home

LINE_ENDINGS = ("lf", "crlf", "keep")
UNKNOWN = "\ufffd"  # the vocabulary's stand-in for characters the training split never shows


@dataclass(frozen=True)
class Corpus:
    """A whole text, where it came from, and how to split it."""

    name: str
    text: str
    sha256: str  # of the text as used (after line-ending conversion), UTF-8 encoded
    split: tuple[float, float, float]
    line_endings: str
    source: str = ""  # what load_corpus was given: a dataset name, or the file's absolute path

    def splits(self) -> tuple[str, str, str]:
        """Contiguous train, validation and test parts, in that order."""
        n = len(self.text)
        a = round(n * self.split[0])
        b = a + round(n * self.split[1])
        parts = (self.text[:a], self.text[a:b], self.text[b:])
        for label, part in zip(("training", "validation", "test"), parts):
            if len(part) < 2:
                has = f"{len(part)} character" + ("" if len(part) == 1 else "s")
                raise ZooError(f"{self.name}: the {label} split has {has} (it needs 2); the text "
                               f"({n:,} characters) is too short for the split {list(self.split)}")
        return parts

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "sha256": self.sha256, "characters": len(self.text),
                "split": list(self.split), "line_endings": self.line_endings}


def decode(data: bytes, origin: str) -> str:
    """UTF-8 (a leading byte-order mark is dropped) or a one-line error naming the bad byte."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ZooError(f"{origin} is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None
    if not text:
        raise ZooError(f"{origin} is empty")
    return text


def convert_line_endings(text: str, line_endings: str) -> str:
    """``lf``: every CR LF and lone CR becomes LF; ``crlf``: then every LF becomes CR LF (the
    paper's War and Peace and Linux files had Windows line endings); ``keep``: unchanged."""
    if line_endings not in LINE_ENDINGS:
        raise ZooError(f"line endings must be one of {', '.join(LINE_ENDINGS)}, got {line_endings!r}")
    if line_endings == "keep":
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "\r\n") if line_endings == "crlf" else text


def parse_split(value: str | tuple | list | None) -> tuple[float, float, float] | None:
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        fractions = tuple(float(p) for p in parts)
    except ValueError:
        raise ZooError(f"a split is three fractions such as 0.8,0.1,0.1, got {value!r}") from None
    if len(fractions) != 3 or not all(0 < f < 1 for f in fractions) or not abs(sum(fractions) - 1) <= 1e-6:
        raise ZooError(f"a split is three positive fractions that add up to 1, got {value!r}")
    return fractions  # type: ignore[return-value]


def load_corpus(source: str, line_endings: str = "lf", split: str | tuple | None = None,
                progress: bool = True) -> Corpus:
    """A named dataset (see `zoo list`'s registry) or a path to a UTF-8 text file."""
    from .registry import registry

    datasets = registry().datasets
    fractions = parse_split(split)
    path = Path(source)
    if source in datasets and not path.exists():
        entry = datasets[source]
        data = _dataset_bytes(source, entry, progress)
        name, origin, fractions = source, source, fractions or tuple(entry["split"])
    elif path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ZooError(f"cannot read {path}: {exc.strerror or exc}") from None
        name, origin, fractions = path.name, str(path.resolve()), fractions or (0.8, 0.1, 0.1)
    elif path.exists():
        raise ZooError(f"{source} is not a file")
    else:
        names = ", ".join(sorted(datasets))
        raise ZooError(f"no dataset or file named '{source}' (datasets: {names})")
    text = convert_line_endings(decode(data, f"'{source}'"), line_endings)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Corpus(name, text, sha, fractions, line_endings, origin)


def _dataset_bytes(name: str, entry: dict[str, Any], progress: bool) -> bytes:
    if "bundled" in entry:
        return (Path(__file__).parent / "corpora" / entry["bundled"]).read_bytes()
    url = entry.get("url")
    if not url:
        raise ZooError(f"dataset '{name}' has no public download: "
                       f"{entry.get('description', 'pass a file with --data PATH')}")
    folder = zoo_home() / "datasets" / name
    target = folder / Path(url).name
    pin = target.with_name(target.name + ".sha256")
    if not target.is_file() and offline():
        raise ZooError(f"dataset '{name}' is not downloaded yet, and downloads are off (ZOO_OFFLINE or HF_HUB_OFFLINE)")
    if not target.is_file():
        make_folder(folder, "the download folder", hint="set ZOO_HOME to a folder you can write")
        _download(url, target, progress)
    data = target.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    expected = entry.get("sha256") or (pin.read_text().strip() if pin.is_file() else None)
    if expected is None:
        atomic_write(pin, actual + "\n")
        print(f"zoo: {name}: no published checksum; pinned this download's sha256 {actual} in {pin}")
    elif actual != expected:
        raise ZooError(f"{target} has sha256 {actual}, expected {expected}: delete it to download again")
    if "member" in entry:
        try:
            with zipfile.ZipFile(target) as archive:
                return archive.read(entry["member"])
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ZooError(f"{target}: cannot read '{entry['member']}' from the archive: {exc}") from None
    return data


def offline() -> bool:
    """Whether the user asked for no network: ZOO_OFFLINE, or the Hugging Face client's own switch."""
    return any(os.environ.get(name, "") not in ("", "0") for name in ("ZOO_OFFLINE", "HF_HUB_OFFLINE"))


def _download(url: str, target: Path, progress: bool) -> None:
    """Stream `url` into a temporary file beside `target`, then rename it into place."""
    from tqdm.auto import tqdm

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {target.name}",
                      disable=not progress, leave=False) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
        shutil.move(tmp, target)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        Path(tmp).unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise ZooError(f"cannot download {url}: {reason} (offline, put the file at {target}, "
                       "or pass its path to --data)") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_vocab(train_text: str):
    """The training split's characters plus `UNKNOWN`, which stands in for characters that only
    validation or test text contains (the model learns they are rare, so they cost what they
    should instead of being dropped)."""
    from .vocab import Vocab

    return Vocab.from_text(train_text, unk=UNKNOWN)


def encoded_splits(corpus: Corpus, vocab=None):
    """``(vocab, train_ids, valid_ids, test_ids)``: the vocabulary (the training split's unless
    one is given, as when resuming or evaluating a saved model) and the splits as id tensors."""
    import torch

    parts = corpus.splits()
    vocab = vocab or build_vocab(parts[0])
    return (vocab, *(torch.from_numpy(vocab.encode(part)) for part in parts))


def bptt_batches(ids, batch_size: int, seq_length: int):
    """Truncated-BPTT windows as char-rnn makes them.

    The ids are cut into `batch_size` contiguous streams (row b continues where row b-1's text
    would have continued), and consumed left to right in windows of `seq_length`; the caller
    carries the recurrent state from one window to the next. Returns inputs and targets of shape
    ``[windows, batch_size, seq_length]``; the ragged tail is dropped.
    """
    per_stream = (len(ids) - 1) // batch_size
    windows = per_stream // seq_length
    if windows < 1:
        raise ZooError(f"{len(ids):,} characters are too few for batches of {batch_size:,} streams x "
                       f"{seq_length:,} steps: lower --batch-size or --seq-length")
    usable = windows * seq_length
    x = ids[: batch_size * per_stream].view(batch_size, per_stream)[:, :usable]
    y = ids[1 : batch_size * per_stream + 1].view(batch_size, per_stream)[:, :usable]
    shape = (batch_size, windows, seq_length)
    return x.reshape(shape).transpose(0, 1), y.reshape(shape).transpose(0, 1)


def trained_corpus(saved: dict[str, Any], data: str | None = None, line_endings: str | None = None,
                   split: str | tuple | None = None, progress: bool = True) -> Corpus:
    """The corpus a checkpoint (its config.json, `saved`) is evaluated or analysed on: `data`, else
    the text it was trained on (refused if that text has changed since). Line endings and the
    split default to the training run's; a named dataset given as `data` brings its own split."""
    trained_on = saved.get("dataset") or {}
    source = data or trained_on.get("source") or trained_on.get("name")
    if not source:
        raise ZooError("this checkpoint does not record its dataset: pass --data")
    trained_endings = trained_on.get("line_endings", "lf")
    own_split = trained_on.get("split") if not data or Path(data).is_file() else None
    try:
        corpus = load_corpus(source, line_endings=line_endings or trained_endings, split=split or own_split,
                             progress=progress)
    except ZooError as exc:
        if data:
            raise
        # a published checkpoint records the text's name and checksum, not where it was: say what to pass
        size = trained_on.get("characters")
        what = ", ".join(part for part in (f"{size:,} characters" if isinstance(size, int) else "",
                                           f"{trained_endings.upper()} line ends",
                                           f"sha256 {trained_on.get('sha256', 'unknown')}") if part)
        raise ZooError(f"{exc}; the model was trained on {source} ({what} as the zoo reads it): "
                       "pass that text with --data FILE") from None
    same_text = not data and line_endings in (None, trained_endings)  # other line endings: another text, asked for
    if same_text and trained_on.get("sha256") and trained_on["sha256"] != corpus.sha256:
        raise ZooError(f"{source} has changed since the model was trained on it (sha256 differs): "
                       "pass --data explicitly")
    return corpus
