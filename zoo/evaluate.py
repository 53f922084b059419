"""Cross-entropy of any `LanguageModel` on a text, with the paper's bootstrap error bar.

Every position after the first is predicted from everything before it. A recurrent model reads a
long text as `streams` rows of one batch (a CPU or GPU does a batch of rows for little more than
the cost of one row): row s reads its own contiguous stretch of the text, starting `warmup`
characters early and from a fresh state, and its first `warmup` predictions are dropped, so that
each scored character has at least `warmup` characters of context read by the model (the first
row starts at the text's start, exactly as one pass does). `streams=1` reads the whole text as
one sequence (batch 1), in chunks whose final state starts the next chunk: the exact figure.
docs/training.md gives the difference between the two on the released models. The standard
error is the standard deviation of the mean over bootstrap resamples of the per-character losses
(100 by default, as Karpathy et al. report).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .errors import ZooError

STREAMS = 64  # rows read at once; 1 reads the text as one sequence
WARMUP = 1_000  # characters each row reads before the first it scores


@torch.no_grad()
def char_losses(model: Any, ids: torch.Tensor, chunk: int = 16_384, device: str | None = None,
                streams: int = STREAMS, warmup: int = WARMUP) -> np.ndarray:
    """Per-character losses in nats: ``out[t] = -log p(ids[t+1] | ids[:t+1])``, ``len(ids) - 1`` of
    them (a recurrent model's context is at least `warmup` characters unless ``streams=1``)."""
    from .recurrent import RecurrentLM

    _check_next_char(model, ids)
    if hasattr(model, "target_log_probs"):  # scores of the next characters alone, when cheaper
        return (-model.target_log_probs(ids)).double().cpu().numpy()
    if not isinstance(model, RecurrentLM):
        lp = model.log_probs(ids)
        return (-lp[:-1].gather(1, ids[1:, None].to(lp.device))[:, 0]).double().cpu().numpy()

    def losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2).float(), targets, reduction="none").double()

    return _read(model, ids, losses, chunk, device, streams, warmup).numpy()


@torch.no_grad()
def next_probabilities(model: Any, ids: torch.Tensor, chars: list[int], chunk: int = 16_384,
                       device: str | None = None, streams: int = STREAMS, warmup: int = WARMUP) -> np.ndarray:
    """The probability of each of `chars` (ids) coming next, at every position:
    ``out[t, k] = p(ids[t+1] = chars[k] | ids[:t+1])``, ``len(ids) - 1`` rows; for analyses that
    ask about characters other than the one that came (will the line end here?)."""
    from .recurrent import RecurrentLM

    _check_next_char(model, ids)
    if hasattr(model, "chosen_log_probs"):  # scores of these characters alone, when cheaper
        return model.chosen_log_probs(ids, list(chars)).double().exp().cpu().numpy()
    wanted = torch.as_tensor(chars, dtype=torch.long)
    if not isinstance(model, RecurrentLM):
        lp = model.log_probs(ids)[:-1]
        return lp[:, wanted.to(lp.device)].double().exp().cpu().numpy()

    def chosen(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits.float(), -1)[..., wanted.to(logits.device)].double().exp()

    return _read(model, ids, chosen, chunk, device, streams, warmup).numpy()


def _check_next_char(model: Any, ids: torch.Tensor) -> None:
    if len(ids) < 2:
        raise ZooError("evaluation needs at least two characters")
    if getattr(getattr(model, "config", None), "classes", None) is not None:
        raise ZooError("this model predicts words, not the next character (`zoo eval` scores it on its task)")


def _read(model: Any, ids: torch.Tensor, score, chunk: int, device: str | None, streams: int,
          warmup: int) -> torch.Tensor:
    """``score(logits [rows, time, vocab], next ids [rows, time])`` at every position of `ids`,
    in order (``len(ids) - 1`` rows of the result), read as `streams` rows of one batch (see the
    module's docstring) or, with one stream or a text too short to share out, as one sequence."""
    if streams < 1 or warmup < 0:
        raise ZooError(f"streams must be at least 1 and warmup at least 0 (got {streams} and {warmup})")
    targets = len(ids) - 1
    streams = min(streams, targets // (4 * warmup) if warmup else targets)  # the warm-up costs under a quarter
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    ids = ids.to(device)
    try:
        if streams <= 1:
            return torch.cat([score(logits, x[:, 1:]).cpu()[0] for logits, x in _chunks(model, ids[None], chunk)])
        # row s reads ids[s*L : s*L + warmup + L + 1] and owns its last L predictions (row 0 all of its own)
        length = -(-(targets - warmup) // streams)
        width = warmup + length + 1
        padded = torch.cat([ids, ids.new_zeros(streams * length + width - len(ids))])
        rows = padded.unfold(0, width, length)[:streams]
        scored = torch.cat([score(logits, x[:, 1:]).cpu()
                            for logits, x in _chunks(model, rows, max(1, chunk // streams))], dim=1)
        owned = torch.cat([scored[0, : warmup + length], scored[1:, warmup:].flatten(0, 1)])
        return owned[:targets]
    finally:
        model.train(was_training)


def _chunks(model: Any, rows: torch.Tensor, chunk: int):
    """(logits, the chunk's ids with the next one) of a recurrent model reading `rows` [rows,
    time], `chunk` steps at a time, each chunk starting from the state the one before ended in."""
    state = None
    for start in range(0, rows.shape[1] - 1, chunk):
        x = rows[:, start : start + chunk + 1]
        logits, state = model(x[:, :-1], state)
        yield logits, x


def bootstrap_se(values: np.ndarray, resamples: int = 100, seed: int = 0, block: int = 1) -> float | None:
    """The standard deviation of the mean of `values` over bootstrap resamples; None (JSON null,
    never NaN) below two. One seed draws the same positions for arrays of one length, so the
    error of a per-position difference between two models is a paired one.

    `block` 1 draws each position on its own, as the paper's error bars do. Neighbouring
    characters' losses are not independent (a hard word is hard for several characters), so a
    larger `block` draws runs of that many positions (a moving-block bootstrap), which allows for
    that dependence up to the block's length."""
    if resamples < 2:
        return None
    rng = np.random.default_rng(seed)
    n = len(values)
    if block <= 1:
        return float(np.array([values[rng.integers(0, n, n)].mean() for _ in range(resamples)]).std(ddof=1))
    if 2 * block > n:  # one or no whole run to draw: the "error" would be 0
        raise ZooError(f"--block {block:,} leaves fewer than two runs in {n:,} characters: choose at most {n // 2:,}")
    sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    windows = sums[block:] - sums[:-block]  # the sum of every run of `block` positions
    count = -(-n // block)  # runs per resample: about n positions
    means = windows[rng.integers(0, len(windows), (resamples, count))].sum(axis=1) / (count * block)
    return float(means.std(ddof=1))


def summarize(losses: np.ndarray, resamples: int = 100, seed: int = 0, block: int = 1) -> dict[str, Any]:
    """Mean cross-entropy in nats and bits per character, with the bootstrap standard error."""
    n = len(losses)
    mean = float(losses.mean())
    se = bootstrap_se(losses, resamples, seed, block)
    return {"nats": mean, "bits": mean / math.log(2),
            "se_nats": se, "se_bits": None if se is None else se / math.log(2),
            "characters": n, "bootstrap_resamples": resamples, "bootstrap_block": block}


def evaluate_split(model: Any, corpus: Any, part: str = "test", saved: dict[str, Any] | None = None,
                   references: dict[str, Any] | None = None, *, resamples: int = 100, block: int = 1,
                   streams: int = STREAMS, progress: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """What `zoo eval` reports: `model` scored on split `part` of `corpus` as its task scores it
    (`saved`: the config of the checkpoint, whose training split this is), with the bootstrap
    error; and each of `references` (label -> model, made for the same task) on the same
    positions, with its difference to the model and that difference's paired error. Returns the
    result and the metrics to record in the model's config.json."""
    from .tasks import task_of

    task = task_of(model)
    saved = saved or {}
    for label, other in (references or {}).items():  # each must score the model's very positions
        if task_of(other).name != task.name:
            raise ZooError(f"--reference {label} is made for the task {task_of(other).name}, the model for "
                           f"{task.name}: they score different things")
        try:
            task.check_reference(model, other)
        except ZooError as exc:
            raise ZooError(f"--reference {label}: {exc}") from None
    scores = task.score(model, corpus, part, saved, streams, progress)
    result = {"data": corpus.name, "split": part, "task": task.name,
              **summarize(scores.loss, resamples, block=block), **scores.figures}
    if references:
        result["references"] = [_compared(label, scores, task.score(other, corpus, part, saved, streams, progress),
                                          resamples, block) for label, other in references.items()]
    metrics = {f"{part}_nats": result["nats"], f"{part}_se_nats": result["se_nats"],
               f"{part}_se_block": block,  # the error's draws: runs of this many characters
               **{f"{part}_{k}": v for k, v in scores.metrics.items()}, f"{part}_data_sha256": corpus.sha256}
    return result, metrics


def _compared(label: str, own: Any, theirs: Any, resamples: int, block: int) -> dict[str, Any]:
    """A reference's scores on the model's positions (`theirs`, a `zoo.Scores`) and their
    differences to the model's (`own`), reference minus model, each with the error of a paired
    bootstrap (one seed: the same resampled positions); top-1 accuracy too where the task ranks."""
    row = {"model": label, **{k: v for k, v in summarize(theirs.loss, resamples, block=block).items()
                              if k in ("nats", "se_nats", "bits")}}
    difference = theirs.loss - own.loss
    row.update(difference_nats=float(difference.mean()),
               difference_se_nats=bootstrap_se(difference, resamples, block=block))
    if own.rank is not None and theirs.rank is not None:
        hits = (theirs.rank == 1).astype(float) - (own.rank == 1)
        row.update(accuracy=float((theirs.rank == 1).mean()), accuracy_difference=float(hits.mean()),
                   accuracy_difference_se=bootstrap_se(hits, resamples, block=block))
    else:
        row["unknown_characters"] = theirs.figures.get("unknown_characters", 0)
    return row
