"""The autocomplete task of Madsen 2019 (Distill, "Visualizing memorization in RNNs", appendix).

A model reads characters (a-z and space) and predicts, at every character, the whole word the
character belongs to; a space predicts the word that follows it. The dataset is built as the
article's:

* the text is normalized the way text8 was made (`normalize`);
* it is packed, in order, into observations of at most 200 characters that never cut a word, each
  a space followed by words separated by single spaces (`pack`);
* the observations are shuffled with a fixed seed and split 90/5/5 (`build`);
* the output classes are padding, unknown, and the 16,384 most frequent words of the training
  observations (`zoo.vocab.WordVocab`); padding and unknown targets are not scored.

Observations are independent: the state starts at zero for each. Where an analysed text is a
sequence of observations, it is written with each observation's leading space replaced by a
newline (`as_text`), so the boundaries survive in a plain string and
``text.replace("\\n", " ")`` is the character stream the model reads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo import Vocab, WordVocab, ZooError

ALPHABET = " abcdefghijklmnopqrstuvwxyz"  # the input characters; index 0, the space, also pads
MAX_LENGTH = 200
WORDS = 16_384
SPLIT = (0.9, 0.05, 0.05)
SEED = 450_849  # fixes the shuffle of observations before the split

_DIGITS = str.maketrans({d: f" {w} " for d, w in zip("0123456789", ["zero", "one", "two", "three", "four", "five",
                                                                      "six", "seven", "eight", "nine"])})
_NOT_LETTERS = re.compile(r"[^a-z]+")
_COMBINING = re.compile("[\u0300-\u036f]+")


def char_vocab() -> Vocab:
    return Vocab(list(ALPHABET))


def normalize(text: str) -> str:
    """text8's rules (Mahoney's wikifil.pl, minus its Wikipedia-markup removal): lower case, digits
    spelled out ("1984" -> "one nine eight four"), every run of other characters a single space,
    no leading or trailing space. One addition: accented Latin letters lose their accents
    ("élève" -> "eleve") where wikifil would cut the word at them."""
    import unicodedata

    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower().translate(_DIGITS)
    return _NOT_LETTERS.sub(" ", text).strip()


def pack(text: str, max_length: int = MAX_LENGTH) -> tuple[list[str], int]:
    """Normalized `text` as observations of at most `max_length` characters, filled greedily in
    order, each ``" word word ..."``; and the number of words dropped for being longer than an
    observation can hold (``max_length - 1`` letters)."""
    words = np.array(text.split(), dtype=object)
    cost = np.fromiter((len(w) + 1 for w in words), dtype=np.int64, count=len(words))
    fits = cost <= max_length
    words, cost = words[fits], cost[fits]
    ends = np.cumsum(cost)
    observations, start, used = [], 0, 0
    while start < len(words):
        stop = int(np.searchsorted(ends, used + max_length, side="right"))
        observations.append(" " + " ".join(words[start:stop]))
        used, start = int(ends[stop - 1]), stop
    return observations, int((~fits).sum())


def as_text(observations: list[str]) -> str:
    """Observations as one string, each starting with a newline instead of its space."""
    return "".join("\n" + o[1:] for o in observations)


def from_text(text: str, max_length: int = MAX_LENGTH) -> list[str]:
    """The observations in an analysed text: each line normalized and packed (a text written by
    `as_text` comes back unchanged; any other text is cut at its newlines and at `max_length`)."""
    return list(_observations(text, max_length))


def has_observations(text: str, max_length: int = MAX_LENGTH) -> bool:
    """Whether `from_text` finds any, reading only up to the first (a check before an analysis,
    where normalizing a whole split would be the analysis's work done twice)."""
    return next(_observations(text, max_length), None) is not None


def _observations(text: str, max_length: int):
    for line in text.split("\n"):
        yield from pack(normalize(line), max_length)[0]


@dataclass
class Dataset:
    """The split observations and the word vocabulary of the training part."""

    train: list[str]
    valid: list[str]
    test: list[str]
    words: WordVocab
    settings: dict[str, Any] = field(default_factory=dict)  # how it was built, for the checkpoint

    def part(self, name: str) -> list[str]:
        return {"train": self.train, "valid": self.valid, "test": self.test}[name]


def build(raw_text: str, words: int | WordVocab = WORDS, max_length: int = MAX_LENGTH,
          split: tuple[float, float, float] = SPLIT, seed: int = SEED) -> Dataset:
    """The article's dataset from any text: normalize, pack, shuffle, split 90/5/5 (by default),
    and keep the `words` most frequent training words (or the given vocabulary, as when
    evaluating a trained model)."""
    observations, dropped = pack(normalize(raw_text), max_length)
    n = len(observations)
    n_train, n_valid = math.floor(n * split[0]), math.floor(n * split[1])
    if min(n_train, n_valid, n - n_train - n_valid) < 1:
        raise ZooError(f"the text makes {n} observation(s) of at most {max_length} characters: too few to split "
                       f"{list(split)} (it needs letters a-z)")
    order = np.random.default_rng(seed).permutation(n)
    parts = [[observations[i] for i in order[a:b]] for a, b in
             ((0, n_train), (n_train, n_train + n_valid), (n_train + n_valid, n))]
    if not isinstance(words, WordVocab):
        words = WordVocab.from_words((w for o in parts[0] for w in o.split()), words)
    settings = {"task": "autocomplete", "normalization": "text8", "max_length": max_length, "split_seed": seed,
                "observations": dict(zip(("train", "valid", "test"), map(len, parts))), "dropped_words": dropped}
    return Dataset(*parts, words=words, settings=settings)


def rebuild(corpus, words: WordVocab, checkpoint: dict[str, Any]) -> Dataset:
    """The dataset a model was trained on, rebuilt from `corpus` (a `zoo.data.Corpus`) with the
    settings its checkpoint's config recorded and its `words`, so that a split is the one it saw."""
    settings = (checkpoint.get("dataset") or {}).get("autocomplete") or {}
    return build(corpus.text, words, settings.get("max_length", MAX_LENGTH), corpus.split,
                 settings.get("split_seed", SEED))


@dataclass
class Encoded:
    """Observations as padded arrays: ``chars [N, L]`` (padding: the space's id, never read by a
    scored output since the model is causal), ``targets [N, L]`` (padding: 0), ``lengths [N]``."""

    chars: np.ndarray
    targets: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    def known(self) -> np.ndarray:
        """``[N, L]``: letters of the target word read so far (0 at the space before it)."""
        col = np.arange(self.chars.shape[1])
        last_space = np.maximum.accumulate(np.where(self.chars == 0, col, 0), axis=1)
        return col - last_space


def encode(observations: list[str], words: WordVocab) -> Encoded:
    """Character ids and word targets of `observations`, vectorized over all of them at once."""
    if not observations:
        raise ZooError("no observations to encode")
    lengths = np.fromiter(map(len, observations), dtype=np.int64, count=len(observations))
    joined = "".join(observations)
    ids = char_vocab().encode(joined)
    word_of_char = np.cumsum(ids == 0) - 1  # every observation starts with a space: its first word
    targets = words.encode(joined.split())[word_of_char]
    rows = np.repeat(np.arange(len(lengths)), lengths)
    cols = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    chars = np.zeros((len(lengths), int(lengths.max())), dtype=np.uint8)
    padded = np.zeros(chars.shape, dtype=np.int32)
    chars[rows, cols] = ids
    padded[rows, cols] = targets
    return Encoded(chars, padded, lengths)


def batches(data: Encoded, batch_size: int, order: np.ndarray | None = None) -> Iterator[tuple[Any, Any]]:
    """``(chars, targets)`` int64 tensors per batch, in `order` (default: as stored), each cut to
    its longest observation."""
    import torch

    order = np.arange(len(data)) if order is None else order
    for a in range(0, len(order), batch_size):
        index = order[a:a + batch_size]
        width = int(data.lengths[index].max())
        yield (torch.from_numpy(data.chars[index, :width].astype(np.int64)),
               torch.from_numpy(data.targets[index, :width].astype(np.int64)))


def scored(targets):
    """Which targets count: not padding (0), not unknown (1), as the article."""
    return targets > 1


def loss(logits, targets):
    """Mean cross-entropy over the scored targets (the article's weighted mean)."""
    import torch.nn.functional as F

    mask = scored(targets)
    per = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none").view_as(targets)
    return (per * mask).sum() / mask.sum().clamp(min=1)


def predictions(model, data: Encoded, top: int = 3, batch_size: int = 64, device=None,
                progress: bool = False) -> dict[str, np.ndarray]:
    """Per scored character, in observation order: its loss (nats), the rank of its word among
    the model's `top` first suggestions (1..top, 0 when not among them), and how many letters of
    the word had been read. Batched; no gradient."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    _check(model)
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: dict[str, list] = {"loss": [], "rank": [], "known": []}
    known_all = data.known()
    try:
        with torch.no_grad(), tqdm(total=len(data), unit="obs", desc="autocomplete", disable=None if progress else True,
                                     leave=False) as bar:
            for a, (x, y) in zip(range(0, len(data), batch_size), batches(data, batch_size)):
                logits, _ = model(x.to(device))
                y = y.to(device)
                mask = scored(y)
                ce = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view_as(y)
                hit = logits.topk(top, dim=-1).indices == y[..., None]
                rank = torch.where(hit.any(-1), hit.float().argmax(-1) + 1, 0)
                out["loss"].append(ce[mask].double().cpu().numpy())
                out["rank"].append(rank[mask].cpu().numpy())
                out["known"].append(known_all[a:a + len(x), :x.shape[1]][mask.cpu().numpy()])
                bar.update(len(x))
    finally:
        model.train(was_training)
    return {k: np.concatenate(v) for k, v in out.items()}


def summarize(found: dict[str, np.ndarray], top: int = 3) -> dict[str, Any]:
    """Word-level cross-entropy and top-k accuracy over the scored characters."""
    n = len(found["loss"])
    if n == 0:
        raise ZooError("no scored characters: every target is padding or an unknown word")
    rank = found["rank"]
    return {"nats": float(found["loss"].mean()), "accuracy": float((rank == 1).mean()),
            **{f"top{k}": float(((rank >= 1) & (rank <= k)).mean()) for k in range(2, top + 1)},
            "scored_characters": n}


def suggest(model, prefix: str, count: int = 5, max_length: int = MAX_LENGTH) -> list[tuple[str, float]]:
    """The `count` most likely words for the word being typed at the end of `prefix` (the next
    word, when `prefix` ends with a space), with their probabilities. The model reads what it was
    trained on, one observation: the end of `prefix`, at most `max_length` characters from a
    space on (the state starts at zero there, as in training)."""
    import torch

    _check(model)
    text = " " + normalize(prefix)
    if prefix[-1:].isspace() and len(text) > 1:
        text += " "
    if len(text) > max_length:  # the last words that fit, the one being typed among them
        tail = text[-max_length:]
        text = tail[tail.find(" "):] if " " in tail else tail
    ids = torch.from_numpy(char_vocab().encode(text))[None].to(next(model.parameters()).device)
    with torch.no_grad():
        logits, _ = model(ids)
    probs = torch.softmax(logits[0, -1].float(), -1)
    probs[:2] = 0  # padding and unknown are not suggestions
    p, i = probs.topk(min(count, len(probs) - 2))
    return [(model.words.words[k], float(v)) for k, v in zip(i.tolist(), p.tolist())]


def _check(model) -> None:
    if getattr(getattr(model, "config", None), "task", None) != "autocomplete" or getattr(model, "words", None) is None:
        raise ZooError("this is not an autocomplete model (train one with "
                       "`zoo train --model gru-1x64 --task autocomplete --input embedding --data <text file>`)")
