"""Text generation: prime the model with a string, then draw one character at a time.

A recurrent model carries its state from one character to the next. Any other language model
(the n-gram and n-NN baselines) is asked for the distribution after the text so far; where it
declares how many characters a prediction reads (``order``, the paper's n), it is given only
those, so each character costs the same however long the sample grows.
"""

from __future__ import annotations

from typing import Any

import torch

from .errors import ZooError

MAX_SEED = 2**63 - 1  # torch's generators take seeds up to this


def check_settings(length: int, temperature: float, seed: int | None) -> None:
    """Refuse, in one line, the settings that would fail deep inside torch or mean nothing."""
    import math

    if length < 0:
        raise ZooError("the number of characters must be >= 0")
    if not math.isfinite(temperature) or temperature < 0 or 0 < temperature < 1e-6 or temperature > 1e6:
        raise ZooError(f"temperature must be 0 (the most likely character) or between 1e-6 and 1e6, got {temperature}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ZooError(f"--seed must be between 0 and {MAX_SEED}, got {seed}")


def sample(model: Any, prime: str, length: int, temperature: float = 1.0, seed: int | None = None) -> str:
    """`length` characters continuing `prime`. Temperature divides the logits (lower: more
    conservative); 0 takes the most likely character every time."""
    return "".join(stream(model, prime, length, temperature, seed))


@torch.no_grad()
def stream(model: Any, prime: str, length: int, temperature: float = 1.0, seed: int | None = None,
           every: int = 64):
    """`sample`, in pieces of `every` characters as they are drawn: a long sample shows at once."""
    from .recurrent import RecurrentLM

    if getattr(model, "vocab", None) is None:
        raise ZooError("this model has no vocabulary attached; sample from a trained checkpoint")
    if "log_probs" not in getattr(model, "capabilities", ()):
        task = getattr(getattr(model, "config", None), "task", None)
        raise ZooError("this model gives no next-character distribution to sample from"
                       + (f" (its task is {task}: `zoo --help` lists the commands that query it)" if task else ""))
    check_settings(length, temperature, seed)
    recurrent = isinstance(model, RecurrentLM)
    if recurrent:
        model.eval()
    device = next(model.parameters()).device if recurrent else torch.device("cpu")
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else torch.seed())
    ids = torch.from_numpy(model.vocab.encode(prime or model.vocab.chars[0])).to(device)
    if recurrent:
        logits, state = model(ids[None])
        last = logits[0, -1]
    else:
        context = getattr(model, "order", None)
        last = model.log_probs(ids[-context:] if context else ids)[-1]
    out = []
    for _ in range(length):
        if temperature == 0:
            nxt = last.argmax()
        else:
            nxt = torch.multinomial(torch.softmax(last.double() / temperature, -1), 1, generator=generator)[0]
        out.append(int(nxt))
        if len(out) == every:
            yield model.vocab.decode(out)
            out = []
        if recurrent:
            logits, state = model(nxt.view(1, 1), state)
            last = logits[0, -1]
        else:
            ids = torch.cat([ids, nxt.view(1).to(ids.device)])
            last = model.log_probs(ids[-context:] if context else ids)[-1]
    if out:
        yield model.vocab.decode(out)
