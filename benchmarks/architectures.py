"""Throughput of every architecture, beside a bare torch.nn.LSTM model measured in the same run.

Prints, for each size:
  * training characters/s (forward + backward + RMSprop step, batch 100 x 100 steps) of each
    architecture's fast path, and of a bare one-hot -> nn.LSTM -> Linear model;
  * the trace path (every internal recorded, no grad) against the fast path, batch 1 x 10,000;
  * one-character-at-a-time stepping (what sampling does), characters/s.

Measurements alternate between the contenders and report medians, since a machine's speed
drifts (by 10-15 % on the 2-core CPU of benchmarks/README.md). Targets and figures are in benchmarks/README.md.

    python benchmarks/architectures.py                 # 2x128 and 3x512
    python benchmarks/architectures.py --sizes 2x128 --json
    python benchmarks/architectures.py --device cuda --archs lstm,gru,nlstm --compiled-paths --training-only

`--compiled-paths` times the step loop and the compiled path (what training takes on a GPU, see
zoo.compiled) of the architectures that have no fused kernel, the Nested LSTM and the GRU with
reset="before", side by side, on any device.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

import zoo

VOCAB = 87


class BareLSTM(nn.Module):
    """The reference: what a user would write by hand with torch.nn.LSTM."""

    def __init__(self, layers: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(VOCAB, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, ids):
        out, _ = self.lstm(F.one_hot(ids, VOCAB).float())
        return self.head(out), None


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_step_timer(model, batch: int, steps: int):
    device = model.head.weight.device
    opt = torch.optim.RMSprop(model.parameters(), lr=2e-3)
    ids = torch.randint(0, VOCAB, (batch, steps + 1), device=device)

    def step() -> float:
        synchronize(device)
        start = time.perf_counter()
        logits, _ = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        synchronize(device)
        return time.perf_counter() - start

    return step


def interleaved(timers: dict[str, callable], repeats: int) -> dict[str, float]:
    """Median seconds per call of each timer, calling them in turn (after one warm-up each)."""
    for t in timers.values():
        t()
    runs: dict[str, list[float]] = {k: [] for k in timers}
    for _ in range(repeats):
        for k, t in timers.items():
            runs[k].append(t())
    return {k: statistics.median(v) for k, v in runs.items()}


# The architectures that train through a compiled step function on a GPU (zoo.compiled), by the
# contender name --compiled-paths gives them: (arch, options).
COMPILED = {"nlstm": ("nlstm", {}), "gru reset=before": ("gru", {"reset": "before"})}


def bench_training(layers: int, hidden: int, repeats: int, archs: list[str], device: torch.device,
                   compiled_paths: bool = False, compile_mode: str | None = None) -> dict:
    batch, steps = 100, 100
    torch.manual_seed(0)

    def make(arch: str, **options):
        model = zoo.create_model(f"{arch}-{layers}x{hidden}", vocab_size=VOCAB, options=options)
        model.compile_mode = compile_mode
        return model.to(device).train()

    timers = {"bare nn.LSTM": train_step_timer(BareLSTM(layers, hidden).to(device).train(), batch, steps)}
    for arch in archs:
        timers[arch] = train_step_timer(make(arch), batch, steps)
    if compiled_paths:  # each one's step loop and its compiled path, on any device
        for name, (arch, options) in COMPILED.items():
            if arch not in archs:
                continue
            for path, devices in (("loop", ()), ("compiled", (device.type,))):
                model = make(arch, **options)
                model.compile_devices = devices
                timers[f"{name} {path}"] = train_step_timer(model, batch, steps)
    seconds = interleaved(timers, repeats)
    return {k: batch * steps / s for k, s in seconds.items()}


def bench_trace(layers: int, hidden: int, length: int, arch: str) -> dict:
    model = zoo.create_model(f"{arch}-{layers}x{hidden}", vocab_size=VOCAB).eval()
    ids = torch.randint(0, VOCAB, (1, length))

    def fast():
        start = time.perf_counter()
        with torch.no_grad():
            model(ids)
        return time.perf_counter() - start

    def trace():
        start = time.perf_counter()
        with torch.no_grad():
            model.trace(ids)
        return time.perf_counter() - start

    seconds = interleaved({"fast": fast, "trace": trace}, repeats=3)
    return {"fast_chars_per_s": length / seconds["fast"], "trace_chars_per_s": length / seconds["trace"],
            "trace_over_fast": seconds["fast"] / seconds["trace"]}


def bench_stepping(layers: int, hidden: int, chars: int, arch: str) -> float:
    model = zoo.create_model(f"{arch}-{layers}x{hidden}", vocab_size=VOCAB).eval()
    ids = torch.randint(0, VOCAB, (1, chars))
    with torch.no_grad():
        state = None
        model(ids[:, :1])
        start = time.perf_counter()
        for t in range(chars):
            _, state = model(ids[:, t : t + 1], state)
        return chars / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2x128,3x512", help="comma-separated LAYERSxHIDDEN")
    parser.add_argument("--archs", default=",".join(zoo.list_architectures()))
    parser.add_argument("--repeats", type=int, default=3, help="timed training steps per contender")
    parser.add_argument("--trace-length", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (training only on cuda)")
    parser.add_argument("--compiled-paths", action="store_true",
                        help="time the step loop and compiled path of the Nested LSTM and the reset-before GRU")
    parser.add_argument("--compile-mode", default=None,
                        help="torch.compile mode of the compiled paths (e.g. reduce-overhead)")
    parser.add_argument("--training-only", action="store_true", help="skip the trace and stepping measurements")
    parser.add_argument("--tf32", action="store_true",
                        help="let CUDA matrix products use TF32, as cuDNN's RNN kernels do by default")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.set_num_threads(torch.get_num_threads())
    archs = args.archs.split(",")
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device),
               "tf32": args.tf32, "sizes": {}}
    if device.type == "cuda":
        results["gpu"] = torch.cuda.get_device_name(device)
    for size in args.sizes.split(","):
        layers, hidden = map(int, size.split("x"))
        row = {"train_chars_per_s": bench_training(layers, hidden, args.repeats, archs, device, args.compiled_paths,
                                                       args.compile_mode)}
        if not (args.training_only or device.type == "cuda"):
            row["trace"] = {a: bench_trace(layers, hidden, args.trace_length, a) for a in archs if a != "nlstm"}
            row["step_chars_per_s"] = {a: bench_stepping(layers, hidden, 300, a) for a in archs}
        results["sizes"][size] = row
        if not args.json:
            train = row["train_chars_per_s"]
            bare = train["bare nn.LSTM"]
            print(f"\n== {size}: training on {device}, batch 100 x 100 steps (chars/s; ratio to bare nn.LSTM) ==")
            for k, v in train.items():
                print(f"  {k:<25} {v:>10,.0f}   {v / bare:5.2f}")
            if "lstm" in train:
                for k in train:
                    if k.startswith(tuple(COMPILED)):
                        print(f"  {k + ' / lstm':<35} {train[k] / train['lstm']:5.2f}")
            if "trace" not in row:
                continue
            print(f"== {size}: trace (all internals) vs fast path, batch 1 x {args.trace_length:,} (no grad) ==")
            for a, t in row["trace"].items():
                print(f"  {a:<14} fast {t['fast_chars_per_s']:>9,.0f}  trace {t['trace_chars_per_s']:>9,.0f}  "
                      f"ratio {t['trace_over_fast']:.2f}")
            print(f"== {size}: one character at a time (chars/s) ==")
            for a, v in row["step_chars_per_s"].items():
                print(f"  {a:<14} {v:>10,.0f}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
