"""Cross-entropy of any `LanguageModel` on a text, with the paper's bootstrap error bar.

Every position after the first is predicted from everything before it: a recurrent model reads
the whole text as one sequence (batch 1), in chunks whose final state starts the next chunk, so
the result equals one pass over the whole text while memory stays bounded. The standard error is
the standard deviation of the mean over bootstrap resamples of the per-character losses (100 by
default, as Karpathy et al. report).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .errors import ZooError


@torch.no_grad()
def char_losses(model: Any, ids: torch.Tensor, chunk: int = 16_384, device: str | None = None) -> np.ndarray:
    """Per-character losses in nats: ``out[t] = -log p(ids[t+1] | ids[:t+1])``, ``len(ids) - 1`` of them."""
    from .recurrent import RecurrentLM

    _check_next_char(model, ids)
    if hasattr(model, "target_log_probs"):  # scores of the next characters alone, when cheaper
        return (-model.target_log_probs(ids)).double().cpu().numpy()
    if not isinstance(model, RecurrentLM):
        lp = model.log_probs(ids)
        return (-lp[:-1].gather(1, ids[1:, None].to(lp.device))[:, 0]).double().cpu().numpy()
    losses = [torch.nn.functional.cross_entropy(logits, targets, reduction="none").double().cpu()
              for logits, targets in _recurrent_chunks(model, ids, chunk, device)]
    return torch.cat(losses).numpy()


@torch.no_grad()
def next_probabilities(model: Any, ids: torch.Tensor, chars: list[int], chunk: int = 16_384,
                       device: str | None = None) -> np.ndarray:
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
    parts = [torch.log_softmax(logits.float(), -1)[:, wanted.to(logits.device)].double().exp().cpu()
             for logits, _ in _recurrent_chunks(model, ids, chunk, device)]
    return torch.cat(parts).numpy()


def _check_next_char(model: Any, ids: torch.Tensor) -> None:
    if len(ids) < 2:
        raise ZooError("evaluation needs at least two characters")
    if getattr(getattr(model, "config", None), "task", "next-char") != "next-char":
        raise ZooError("this model predicts words, not the next character (`zoo eval` scores it on its task)")


def _recurrent_chunks(model: Any, ids: torch.Tensor, chunk: int, device: str | None):
    """(logits, next ids) of a recurrent model reading `ids` as one sequence (batch 1), `chunk`
    characters at a time, each chunk starting from the state the one before ended in."""
    was_training = model.training
    model.eval()
    device = device or next(model.parameters()).device
    ids = ids.to(device)
    state = None
    try:
        for start in range(0, len(ids) - 1, chunk):
            x = ids[start : start + chunk + 1]
            logits, state = model(x[None, :-1], state)
            yield logits[0], x[1:]
    finally:
        model.train(was_training)


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
    block = min(block, n)
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
    return {"nats": mean, "bits": mean / math.log(2), "se_nats": se, "se_bits": None if se is None else se / math.log(2),
            "characters": n, "bootstrap_resamples": resamples, "bootstrap_block": block}
