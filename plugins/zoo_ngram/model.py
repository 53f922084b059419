"""A character n-gram language model: KenLM's modified Kneser-Ney, unpruned.

``order`` is the paper's n: the number of previous characters the model conditions on, so
``order=20`` is a 21-gram. Estimation runs KenLM's ``lmplz`` (then ``build_binary``); queries go
through the ``kenlm`` Python module. Both must be built for orders above 6: see
``tools/setup_kenlm.sh`` (``make setup`` runs it).

Characters become KenLM words as their code point in hexadecimal (``a`` -> ``61``, newline ->
``a``, space -> ``20``), so no character can clash with whitespace or KenLM's ``<s>``, ``</s>``
and ``<unk>``. The training text is one KenLM sentence (one line): newlines are ordinary tokens and the context
is never cut at a line break. The vocabulary's unknown-character stand-in is KenLM's ``<unk>``.

Scores: ``target_log_probs`` returns KenLM's own score of each next character, exactly what
KenLM's ``query`` prints; evaluation uses it (and ``chosen_log_probs`` the same scores of any
given characters). ``log_probs`` returns full distributions over the
vocabulary. KenLM keeps a little probability for ``</s>`` (the end of the text, seen once), which
is not a character, so those rows are renormalized over the vocabulary to sum to 1; they differ
from KenLM's scores by that mass (bounded in the tests).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

import zoo
from zoo import Baseline, Vocab, ZooError, atomic_write
from zoo import checkpoint_header as header

LN10 = math.log(10)
MAX_SUPPORTED = 24  # KENLM_MAX_ORDER of tools/setup_kenlm.sh; the n-gram has order + 1 words


def _tool(name: str) -> str | None:
    """KenLM's program `name`: beside this Python (where setup_kenlm.sh links it), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _tools() -> dict[str, str]:
    found = {name: _tool(name) for name in ("lmplz", "build_binary")}
    missing = [k for k, v in found.items() if v is None]
    if missing:
        raise ZooError(f"KenLM's {' and '.join(missing)} not found: run tools/setup_kenlm.sh .venv (make setup does)")
    return found  # type: ignore[return-value]


def _kenlm():
    try:
        import kenlm
    except ImportError:
        raise ZooError("the kenlm Python module is missing: run tools/setup_kenlm.sh .venv (make setup does)") from None
    return kenlm


def tokens(vocab: Vocab) -> list[str]:
    """The KenLM word for each vocabulary id."""
    return ["<unk>" if c == vocab.unk else format(ord(c), "x") for c in vocab.chars]


class NGram(Baseline):
    name = "ngram"
    params = {
        "memory": zoo.Param("40%", "lmplz's sorting memory (-S): a share of the RAM (40%) or a size (8G, 512M)",
                            check=lambda v: re.fullmatch(r"\d+(\.\d+)?[%bKMGTPEZY]?", v) is not None),
    }

    def __init__(self, directory: Path, vocab: Vocab, order: int, meta: dict[str, Any]):
        self.directory = directory
        self.vocab = vocab
        self.order = order
        self.meta = meta
        try:
            self.model = _kenlm().Model(str(directory / "model.binary"))
        except (OSError, RuntimeError) as exc:
            raise ZooError(f"KenLM cannot load {directory / 'model.binary'}: {exc}") from None
        self.words = tokens(vocab)

    # -- estimation ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, train_ids: torch.Tensor, vocab: Vocab, order: int = 5, directory: str | Path | None = None,
            memory: str = "40%", sections: dict[str, Any] | None = None, valid_ids: Any = None,
            progress: bool = False) -> NGram:
        """Estimate with lmplz into `directory` (model.binary + config.json); `sections` (dataset,
        ...) go into config.json. `memory` is lmplz's -S (its sorting memory). An n-gram has no
        early stopping: `valid_ids` is not used."""
        if not isinstance(order, int) or order < 1:
            raise ZooError(f"the n-gram order (characters of context) must be at least 1, got {order!r}")
        if order + 1 > MAX_SUPPORTED:
            raise ZooError(f"order {order} needs a {order + 1}-gram; KenLM here supports up to {MAX_SUPPORTED}-grams")
        if len(train_ids) < 2:
            raise ZooError("an n-gram needs a training text of at least two characters")
        tools = _tools()
        directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="zoo-ngram-"))
        directory.mkdir(parents=True, exist_ok=True)
        words = np.array(tokens(vocab), dtype=object)[np.asarray(train_ids)]
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            text = Path(tmp) / "train.txt"
            text.write_text(" ".join(words) + "\n", encoding="ascii")
            arpa = Path(tmp) / "model.arpa"
            cmd = [tools["lmplz"], "-o", str(order + 1), "-S", memory, "-T", tmp, "--discount_fallback",
                   "--text", str(text), "--arpa", str(arpa)]
            _run(cmd, "lmplz", progress)  # lmplz draws its own progress bars on stderr
            binary = Path(tmp) / "model.binary"
            _run([tools["build_binary"], str(arpa), str(binary)], "build_binary", progress)
            os.replace(binary, directory / "model.binary")
        meta = {**header(),
                "baseline": {"name": "ngram", "order": order, "kenlm_order": order + 1,
                             "smoothing": "modified Kneser-Ney", "pruning": None,
                             "training_characters": int(len(train_ids))},
                "vocab": vocab.to_dict(), **(sections or {})}
        atomic_write(directory / "config.json", json.dumps(meta, indent=2) + "\n")
        return cls(directory, vocab, order, meta)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        if directory.resolve() == self.directory.resolve():
            return
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / "model.binary", (self.directory / "model.binary").read_bytes())
        atomic_write(directory / "config.json", json.dumps(self.meta, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> NGram:
        directory = Path(directory)
        try:
            meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ZooError(f"{directory} is not an n-gram baseline: {exc}") from None
        return cls(directory, Vocab.from_dict(meta["vocab"]), int(meta["baseline"]["order"]), meta)

    # -- queries -------------------------------------------------------------------------------
    def target_log_probs(self, ids: torch.Tensor) -> torch.Tensor:
        """``out[t] = ln p(ids[t+1] | ids[:t+1])`` as KenLM scores it (one query per position).
        The first character is read as following the sentence start ``<s>``."""
        kenlm = _kenlm()
        ids = np.asarray(ids)
        scores = np.empty(len(ids) - 1)
        state, out = kenlm.State(), kenlm.State()
        self.model.BeginSentenceWrite(state)
        self.model.BaseScore(state, self.words[ids[0]], out)
        state, out = out, state
        base = self.model.BaseScore
        words = self.words
        for t in range(1, len(ids)):
            scores[t - 1] = base(state, words[ids[t]], out)
            state, out = out, state
        return torch.from_numpy(scores * LN10)

    def chosen_log_probs(self, ids: torch.Tensor, chars: list[int]) -> torch.Tensor:
        """``out[t, k] = ln p(chars[k] | ids[:t+1])`` as KenLM scores it (as `target_log_probs`),
        ``len(ids) - 1`` rows: for analyses that ask about a few characters at every position
        (will the line end here?), one query each instead of the whole vocabulary's."""
        kenlm = _kenlm()
        ids = np.asarray(ids)
        wanted = [self.words[c] for c in chars]
        scores = np.empty((len(ids) - 1, len(wanted)))
        state, out, scratch = kenlm.State(), kenlm.State(), kenlm.State()
        self.model.BeginSentenceWrite(state)
        base = self.model.BaseScore
        base(state, self.words[ids[0]], out)
        state, out = out, state
        for t in range(1, len(ids)):
            for k, word in enumerate(wanted):
                scores[t - 1, k] = base(state, word, scratch)
            base(state, self.words[ids[t]], out)
            state, out = out, state
        return torch.from_numpy(scores * LN10)

    def log_probs(self, ids: torch.Tensor) -> torch.Tensor:
        """``[T, V]``: ln p(next | ids[:t+1]) over the vocabulary, renormalized (see module doc).
        Distributions are computed once per distinct KenLM state and reused."""
        kenlm = _kenlm()
        ids = np.asarray(ids)
        rows = np.empty((len(ids), len(self.words)))
        cache: dict[Any, np.ndarray] = {}
        state, out, scratch = kenlm.State(), kenlm.State(), kenlm.State()
        self.model.BeginSentenceWrite(state)
        base = self.model.BaseScore
        for t, i in enumerate(ids):
            base(state, self.words[i], out)
            state, out = out, state
            row = cache.get(state)
            if row is None:
                row = np.array([base(state, w, scratch) for w in self.words]) * LN10
                row -= np.logaddexp.reduce(row)
                cache[copy.copy(state)] = row  # `state` itself is reused on the next step
            rows[t] = row
        return torch.from_numpy(rows)


def _run(cmd: list[str], what: str, progress: bool) -> None:
    """Run a KenLM program; with `progress` its own output shows, else only a failure's last line."""
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=None if progress else subprocess.PIPE, text=True)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
        detail = lines[-1] if lines else "see its output above"
        raise ZooError(f"KenLM's {what} failed (exit {done.returncode}): {detail}")
