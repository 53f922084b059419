"""Text generation: prime the model with a string, then draw one character at a time."""

from __future__ import annotations

from typing import Any

import torch

from .errors import ZooError


@torch.no_grad()
def sample(model: Any, prime: str, length: int, temperature: float = 1.0, seed: int | None = None) -> str:
    """`length` characters continuing `prime`. Temperature divides the logits (lower: more
    conservative); 0 takes the most likely character every time."""
    if model.vocab is None:
        raise ZooError("this model has no vocabulary attached; sample from a trained checkpoint")
    if getattr(model.config, "task", "next-char") != "next-char":
        raise ZooError("this model predicts words, not the next character: try `zoo autocomplete`")
    if temperature < 0:
        raise ZooError("temperature must be >= 0")
    if length < 0:
        raise ZooError("the number of characters must be >= 0")
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else torch.seed())
    prime = prime or model.vocab.chars[0]
    ids = torch.from_numpy(model.vocab.encode(prime)).to(device)[None]
    logits, state = model(ids)
    out = []
    for _ in range(length):
        last = logits[0, -1]
        if temperature == 0:
            nxt = last.argmax()
        else:
            nxt = torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=generator)[0]
        out.append(int(nxt))
        logits, state = model(nxt.view(1, 1), state)
    return model.vocab.decode(out)
