"""Where models run: a `--device` name checked against what torch and this machine offer."""

from __future__ import annotations

import os

import torch

from .errors import ZooError


def pick_device(name: str = "auto") -> torch.device:
    """`name` as a torch device ("auto": CUDA if torch sees a GPU, else the CPU), or one line saying
    why it cannot be used here. Under torchrun each process takes its own GPU (LOCAL_RANK)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ZooError(f"--device {name}: not a device name torch knows (auto, cpu, cuda, cuda:N, mps, ...)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ZooError("--device cuda was asked for, but torch sees no CUDA device")
    if device.type == "meta":
        raise ZooError("--device meta holds shapes, not numbers: choose cpu or cuda")
    try:  # cuda:7 on a machine with one GPU, mps off a Mac, ...
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError):
        raise ZooError(f"--device {name} is not available on this machine") from None
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device
