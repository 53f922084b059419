"""`Vocab`: characters <-> integer ids, vectorized, with unknown characters handled explicitly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .errors import ZooError


class Vocab:
    """An ordered set of characters.

    Ids follow the order given (``from_text`` sorts by code point, so a vocabulary is reproducible
    from its text). Characters outside the vocabulary either map to `unk`, a character that must
    itself be in the vocabulary, or, when `unk` is None, raise a `ZooError` naming them: nothing
    is ever dropped silently.
    """

    def __init__(self, chars: Sequence[str], unk: str | None = None):
        chars = list(chars)
        if not chars:
            raise ZooError("a vocabulary needs at least one character")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ZooError("a vocabulary holds single characters")
        if len(set(chars)) != len(chars):
            raise ZooError("a vocabulary must not repeat a character")
        if unk is not None and unk not in chars:
            raise ZooError(f"the unknown-character stand-in {unk!r} is not in the vocabulary")
        self.chars = chars
        self.unk = unk
        codes = np.array([ord(c) for c in chars], dtype=np.int64)
        self._order = np.argsort(codes)
        self._sorted = codes[self._order]

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> Vocab:
        chars = set(text)
        if unk is not None:
            chars.add(unk)
        return cls(sorted(chars), unk=unk)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self.chars

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.chars == other.chars and self.unk == other.unk

    def __repr__(self) -> str:
        return f"Vocab({len(self)} characters, unk={self.unk!r})"

    def _lookup(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes, ids, known) of `text`'s characters, in one vectorized pass."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        pos = np.minimum(np.searchsorted(self._sorted, codes), len(self._sorted) - 1)
        return codes, self._order[pos], self._sorted[pos] == codes

    def unknown_count(self, text: str) -> int:
        """How many characters of `text` are outside the vocabulary (read as `unk`, if any)."""
        return int((~self._lookup(text)[2]).sum())

    def encode(self, text: str) -> np.ndarray:
        """The ids of `text` as an int64 array (one vectorized lookup, no Python loop)."""
        codes, ids, known = self._lookup(text)
        if not known.all():
            if self.unk is None:
                missing = sorted({chr(c) for c in codes[~known][:10000]})
                shown = ", ".join(repr(c) for c in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                raise ZooError(
                    f"{int((~known).sum())} character(s) are not in the vocabulary ({shown}{more}); "
                    "choose an unknown-character stand-in to map them"
                )
            ids = np.where(known, ids, self.chars.index(self.unk))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_dict(self) -> dict[str, Any]:
        return {"chars": "".join(self.chars), "unk": self.unk}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocab:
        try:
            return cls(list(data["chars"]), unk=data.get("unk"))
        except (KeyError, TypeError) as exc:
            raise ZooError(f"invalid vocabulary record: {exc}") from exc


class WordVocab:
    """The output classes of a model that predicts words: padding, unknown, then the words.

    Id 0 (`PAD`) marks positions past an observation's end and id 1 (`UNK`) a word outside the
    vocabulary; neither is scored in training or evaluation, as in Madsen 2019. `from_counts`
    keeps the most frequent words, ties broken alphabetically, so a vocabulary is reproducible
    from its text.
    """

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if words[:2] != [self.PAD, self.UNK]:
            raise ZooError(f"a word vocabulary starts with {self.PAD} and {self.UNK}")
        if len(set(words)) != len(words):
            raise ZooError("a word vocabulary must not repeat a word")
        self.words = words
        self._index = {w: i for i, w in enumerate(words)}

    @classmethod
    def from_words(cls, words: Iterable[str], size: int) -> WordVocab:
        """The `size` most frequent of `words`."""
        from collections import Counter

        counts = Counter(words)
        return cls([cls.PAD, cls.UNK, *sorted(counts, key=lambda w: (-counts[w], w))[:size]])

    def __len__(self) -> int:
        return len(self.words)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordVocab) and self.words == other.words

    def __repr__(self) -> str:
        return f"WordVocab({len(self) - 2} words + padding and unknown)"

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """Ids of `words`, `UNK`'s (1) for words outside the vocabulary."""
        index = self._index
        return np.fromiter((index.get(w, 1) for w in words), dtype=np.int32, count=len(words))

    def to_list(self) -> list[str]:
        return list(self.words)
