"""Training with the paper's recipe, resumable to the bit, on one process or under torchrun.

A run directory (`zoo.runs` owns its layout) holds one checkpoint per kept epoch, with the
optimizer's state (``training.safetensors``), and run.json, which points at them. An epoch's
directory is written completely under a temporary name and renamed into place before
`run.json` (written atomically) points at it, so a run killed at any moment resumes from the last
finished epoch; what such a kill leaves half-written (``.run.json.*.tmp``, ``epochs/.NNNN.tmp``, an
epoch run.json does not name) is removed when the run starts again. run.json's pointers must lead
inside the run: nothing outside it is read, written or deleted. ``training.safetensors`` holds the
optimizer state and the random-number generators' states; with them, and the data order fixed
(char-rnn's streams, state reset at each epoch), a resumed run computes exactly what the
uninterrupted run would have.

Under ``torchrun --nproc_per_node N -m zoo train ...`` each process takes batch_size/N of the
streams and DistributedDataParallel averages the gradients, which equals the full batch's
gradient; rank 0 validates, writes checkpoints and shows progress.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .checkpoint import load_checkpoint, read_config, safetensors_bytes, save_checkpoint
from .data import Corpus, bptt_batches, build_vocab, encoded_splits
from .devices import pick_device
from .errors import ZooError
from .evaluate import char_losses
from .fileio import atomic_write
from .recipe import Recipe
from .runs import (
    RUN_ENTRIES,
    RUN_FILE,
    RUN_FILE_TMP,
    check_own_folders,
    clean_leftovers,
    drop_epoch,
    epoch_name,
    epoch_tmp,
    hold_run,
    read_run,
    step_folder,
    write_record,
)

TRAINING_STATE = "training.safetensors"


@dataclass
class Distributed:
    """The processes torchrun started (WORLD_SIZE, RANK); one process without it."""

    world: int = 1
    rank: int = 0
    owned: bool = False  # we started the process group, so we end it

    @classmethod
    def from_env(cls, device: torch.device) -> Distributed:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as dist

        owned = not dist.is_initialized()
        if owned:
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return cls(world=dist.get_world_size(), rank=dist.get_rank(), owned=owned)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def broadcast(self, value: float, device: torch.device) -> float:
        if self.world == 1:
            return value
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64, device=device)
        dist.broadcast(t, 0)
        return float(t.item())

    def close(self) -> None:
        """Wait for every process, then end the group we started: a process that exits with
        the group's threads still running aborts ("terminate called without an active exception")."""
        if self.world > 1 and self.owned:
            import torch.distributed as dist

            dist.barrier()
            dist.destroy_process_group()


def progress_bar(total: int, desc: str, unit: str, show: bool):
    """A bar for the work within an epoch (done, rate, time left; the running loss is set by the
    loop), shown on a terminal unless `show` is off. A terminal that reports no width (some
    pseudo-terminals) gets 100 columns instead of an empty bar."""
    import shutil

    from tqdm.auto import tqdm

    width = None if shutil.get_terminal_size((0, 0)).columns > 0 else 100
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "char", disable=None if show else True,
                leave=False, dynamic_ncols=width is None, ncols=width, mininterval=0.5)


def _optimizer(params, recipe: Recipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr)
    return torch.optim.RMSprop(params, lr=recipe.lr, alpha=recipe.rmsprop_alpha, eps=1e-8)


# -- training state (optimizer + random generators) as safetensors + JSON: nothing is pickled --
def _training_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {"rng.cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    scalars: dict[str, Any] = {}
    for index, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_training_state(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                            meta: dict[str, Any], device: torch.device) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value.to(device) if key != "step" else value
    for name, value in meta["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    torch.set_rng_state(tensors["rng.cpu"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def _write_epoch(run: Path, epoch: int, model, optimizer, sections: dict[str, Any]) -> str:
    """Write the epoch under a temporary name and rename it into place; a write that fails (a full
    disk, Ctrl-C) removes the temporary folder, so that only whole epochs are left."""
    from .fileio import sha256_bytes

    name = epoch_name(epoch)
    final = run / name
    tmp = epoch_tmp(run, epoch)
    shutil.rmtree(tmp, ignore_errors=True)
    tensors, meta = _training_state(optimizer)
    state_bytes = safetensors_bytes(tensors)
    try:
        tmp.mkdir(parents=True)
        atomic_write(tmp / TRAINING_STATE, state_bytes)
        meta.update(epoch=epoch, sha256=sha256_bytes(state_bytes))
        save_checkpoint(model, tmp, **sections, training=meta)
        shutil.rmtree(final, ignore_errors=True)  # a leftover of a run killed before run.json named it
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name


def _not_saved(run: Path, what: str, last: str | None, exc: OSError) -> str:
    """The line for a checkpoint that could not be written (a full disk): what is kept, how to go on."""
    kept = (f"the run keeps its last complete epoch, {run / last}: make room, then run the same command with --resume "
            "to continue" if last else "no epoch was kept: make room, then run the command again")
    return f"cannot save {what} in {run}: {exc.strerror or exc}; {kept}"


@dataclass
class TrainResult:
    run: Path
    epochs: int
    best_epoch: int | None
    best_valid_nats: float | None
    stopped_early: bool
    history: list[dict[str, Any]]
    model: Any = None  # the trained model as it is after the last epoch (this process's copy)


def _holding_the_run(func):
    """Run a training function with its run directory held (`hold_run`)."""
    @functools.wraps(func)
    def holding(model_name, corpus, recipe, out, *args, **kwargs):
        with hold_run(Path(out)):
            return func(model_name, corpus, recipe, out, *args, **kwargs)
    return holding


@_holding_the_run
def train(model_name: str, corpus: Corpus, recipe: Recipe, out: str | Path, resume: bool = False,
          device: str = "auto", progress: bool = True, log: Callable[[str], None] = print,
          overrides: dict[str, Any] | None = None, snapshot_every: int = 0) -> TrainResult:
    """Train `model_name` (a registry name or an ad-hoc shape) on `corpus` into the run directory `out`.

    `snapshot_every` > 0 also keeps the model (weights only) every that many optimizer steps in
    ``steps/<step>``, for analyses of the first epochs (the paper's Fig. 5 right). Training is
    bit-identical on --resume, so the steps of a resumed epoch are written again unchanged."""

    from .registry import create_model

    run = Path(out)
    dev = pick_device(device)
    dist = Distributed.from_env(dev)
    if recipe.batch_size % dist.world:
        raise ZooError(f"batch size {recipe.batch_size} does not divide among {dist.world} processes")
    train_text = corpus.splits()[0]
    begun = _begin(run, model_name, corpus, recipe, resume, dev,
                   lambda: create_model(model_name, vocab=build_vocab(train_text), dropout=recipe.dropout,
                                        **(overrides or {})))
    model, vocab, history, best, last = begun.model, begun.model.vocab, begun.history, begun.best, begun.last
    _, train_ids, valid_ids, _ = encoded_splits(corpus, vocab)
    x_all, y_all = bptt_batches(train_ids, recipe.batch_size, recipe.seq_length)
    share = recipe.batch_size // dist.world
    x_all = x_all[:, dist.rank * share : (dist.rank + 1) * share]
    y_all = y_all[:, dist.rank * share : (dist.rank + 1) * share]

    model.train()
    net = model
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    optimizer = _optimizer(model.parameters(), recipe)
    begun.restore(optimizer, dev)

    sections = {"dataset": corpus.describe(), "recipe": dataclasses.asdict(recipe)}
    best_nats = min((h["valid_nats"] for h in history), default=math.inf)
    bad_epochs = _bad_epochs(history)
    stopped_early = False
    windows, V = x_all.shape[0], len(vocab)
    if dist.main:
        _announce(log, run, begun, recipe,
                  f"training {model.config.arch} {model.config.layers}x{model.config.hidden} "
                  f"({model.num_parameters():,} parameters) on {corpus.name}: {len(train_text):,} training characters, "
                  f"{windows} steps per epoch, device {dev}" + (f", {dist.world} processes" if dist.world > 1 else ""))
    clock = _EpochClock()
    for epoch in range(begun.start_epoch, recipe.max_epochs + 1):
        if recipe.patience and bad_epochs >= recipe.patience:
            stopped_early = True
            break
        lr = _set_lr(optimizer, recipe, epoch)
        state = None
        started = time.perf_counter()
        running, count = torch.zeros((), device=dev), 0
        chars = recipe.batch_size * recipe.seq_length  # per step
        bar = progress_bar(windows * chars, f"epoch {epoch}/{recipe.max_epochs}", "char", progress and dist.main)
        for w in range(windows):
            xb, yb = x_all[w].to(dev, non_blocking=True), y_all[w].to(dev, non_blocking=True)
            logits, state = net(xb, state)
            state = tuple(s.detach() for s in state)
            loss = F.cross_entropy(logits.reshape(-1, V), yb.reshape(-1))
            _step(model, optimizer, loss, recipe)
            running += loss.detach()
            count += 1
            step = (epoch - 1) * windows + w + 1
            if snapshot_every and dist.main and step % snapshot_every == 0:
                snapshot = step_folder(run, step)
                try:
                    save_checkpoint(model, snapshot, **sections,
                                    metrics={"step": step, "epoch": round(step / windows, 6)})
                except OSError as exc:
                    shutil.rmtree(snapshot, ignore_errors=True)
                    raise ZooError(_not_saved(run, f"the snapshot of step {step}", last, exc)) from None
            if not bar.disable and (w % 10 == 9 or w == windows - 1):
                bar.set_postfix(loss=f"{running.item() / count:.3f}")
            bar.update(chars)
        bar.close()
        seconds = time.perf_counter() - started
        train_nats = running.item() / max(count, 1)
        valid_nats = float(char_losses(model, valid_ids, streams=1).mean()) if dist.main else 0.0
        valid_nats = dist.broadcast(valid_nats, dev)
        model.train()
        improved = valid_nats < best_nats
        bad_epochs = 0 if improved else bad_epochs + 1
        entry = {"epoch": epoch, "lr": lr, "train_nats": train_nats, "valid_nats": valid_nats,
                 "seconds": round(seconds, 2),
                 "chars_per_s": round(windows * recipe.batch_size * recipe.seq_length / seconds)}
        history.append(entry)
        best_nats = min(best_nats, valid_nats)
        if dist.main:
            last, best = _keep_epoch(run, model_name, epoch, model, optimizer, sections,
                                     {"valid_nats": valid_nats, "epoch": epoch}, history, last, best, improved)
            log(f"epoch {epoch}: train {train_nats:.4f}  valid {valid_nats:.4f} nats/char "
                f"({valid_nats / math.log(2):.4f} bits)  lr {lr:.2e}  {entry['chars_per_s']:,} chars/s"
                + ("  (best)" if improved else "") + clock.left(recipe.max_epochs - epoch))
    if dist.main and stopped_early:
        log(f"stopped early: no better validation loss in {recipe.patience} epochs")
    dist.close()
    return _result(run, history, stopped_early, model)


@_holding_the_run
def train_autocomplete(model_name: str, corpus: Corpus, recipe: Recipe, out: str | Path, resume: bool = False,
                       device: str = "auto", progress: bool = True, log: Callable[[str], None] = print,
                       overrides: dict[str, Any] | None = None, words: int | None = None) -> TrainResult:
    """Train `model_name` on Madsen 2019's autocomplete task (`zoo.autocomplete`) built from
    `corpus`: observations of at most ``recipe.seq_length`` characters, shuffled into batches of
    ``recipe.batch_size`` every epoch, the state starting at zero for each; the loss and the
    validation figures score the words only (not padding or unknown words). `words`: how many
    words the head scores (default: the model's ``classes`` less padding and unknown, else
    16,384). Same run directory, checkpoints and --resume as `train`; one process."""
    import numpy as np

    from . import autocomplete as ac
    from .registry import create_model, resolve

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ZooError("the autocomplete task trains on one process: run it without torchrun")
    from .vocab import WordVocab

    run, dev = Path(out), pick_device(device)
    overrides = dict(overrides or {})
    previous = read_run(run) if resume else None
    if previous:  # the run's own words, whatever --words says now
        vocabulary: int | WordVocab = WordVocab(read_config(run / previous["last"]).get("words") or [])
        if words and words != len(vocabulary) - 2:
            raise ZooError(f"{run} was trained with {len(vocabulary) - 2} words: --resume keeps them (drop --words)")
    else:
        vocabulary = words or (overrides.pop("classes", None) or resolve(model_name).classes or ac.WORDS + 2) - 2
    data = ac.build(corpus.text, vocabulary, recipe.seq_length, corpus.split)

    def make_model():
        model = create_model(model_name, vocab=ac.char_vocab(), dropout=recipe.dropout,
                             **{**overrides, "task": "autocomplete", "classes": len(data.words)})
        model.words = data.words
        return model

    begun = _begin(run, model_name, corpus, recipe, resume, dev, make_model)
    model, history, best, last = begun.model, begun.history, begun.best, begun.last
    train_set, valid_set = ac.encode(data.train, data.words), ac.encode(data.valid, data.words)
    optimizer = _optimizer(model.parameters(), recipe)
    begun.restore(optimizer, dev)
    sections = {"dataset": {**corpus.describe(), "autocomplete": data.settings}, "recipe": dataclasses.asdict(recipe)}
    best_nats = min((h["valid_nats"] for h in history), default=math.inf)
    bad_epochs = _bad_epochs(history)
    stopped_early = False
    steps = math.ceil(len(train_set) / recipe.batch_size)
    _announce(log, run, begun, recipe,
              f"training {model.config.arch} {model.config.layers}x{model.config.hidden} ({model.num_parameters():,} "
              f"parameters) on autocomplete/{corpus.name}: {len(train_set):,} observations, {len(data.words) - 2:,} "
              f"words, {steps} steps per epoch, device {dev}")
    clock = _EpochClock()
    for epoch in range(begun.start_epoch, recipe.max_epochs + 1):
        if recipe.patience and bad_epochs >= recipe.patience:
            stopped_early = True
            break
        lr = _set_lr(optimizer, recipe, epoch)
        model.train()
        order = np.random.default_rng([recipe.seed, epoch]).permutation(len(train_set))
        started, running, count = time.perf_counter(), torch.zeros((), device=dev), 0
        bar = progress_bar(steps, f"epoch {epoch}/{recipe.max_epochs}", "step", progress)
        for x, y in ac.batches(train_set, recipe.batch_size, order):
            logits, _ = model(x.to(dev, non_blocking=True))
            loss = ac.loss(logits, y.to(dev, non_blocking=True))
            _step(model, optimizer, loss, recipe)
            running += loss.detach()
            count += 1
            if not bar.disable and (count % 10 == 0 or count == steps):
                bar.set_postfix(loss=f"{running.item() / count:.3f}")
            bar.update(1)
        bar.close()
        seconds = time.perf_counter() - started
        valid = ac.summarize(ac.predictions(model, valid_set, device=dev))
        improved = valid["nats"] < best_nats
        bad_epochs = 0 if improved else bad_epochs + 1
        best_nats = min(best_nats, valid["nats"])
        entry = {"epoch": epoch, "lr": lr, "train_nats": running.item() / max(count, 1), "valid_nats": valid["nats"],
                 "valid_accuracy": valid["accuracy"], "seconds": round(seconds, 2),
                 "chars_per_s": round(int(train_set.lengths.sum()) / seconds)}
        history.append(entry)
        last, best = _keep_epoch(run, model_name, epoch, model, optimizer, sections,
                                 {"valid_nats": valid["nats"], "valid_accuracy": valid["accuracy"], "epoch": epoch},
                                 history, last, best, improved)
        log(f"epoch {epoch}: train {entry['train_nats']:.4f}  valid {valid['nats']:.4f} nats/word-target, "
            f"accuracy {valid['accuracy']:.2%}  {entry['chars_per_s']:,} chars/s" + ("  (best)" if improved else "")
            + clock.left(recipe.max_epochs - epoch))
    if stopped_early:
        log(f"stopped early: no better validation loss in {recipe.patience} epochs")
    return _result(run, history, stopped_early, model)


class _EpochClock:
    """Wall time per epoch (training, validation, saving), for the log's estimate of how long a
    run may still take: the mean of the last three epochs, times the epochs left to the limit
    (an upper bound, since early stopping may end the run sooner)."""

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.last, self.durations = now(), []

    def left(self, epochs: int) -> str:
        now = self.now()
        self.durations.append(now - self.last)
        self.last = now
        if epochs <= 0:
            return ""
        recent = self.durations[-3:]
        minutes = round(epochs * sum(recent) / len(recent) / 60)
        if minutes < 1:
            return "  (at most a minute to go)"
        hours, minutes = divmod(minutes, 60)
        return f"  (at most {hours} h {minutes} min to go)" if hours else f"  (at most {minutes} min to go)"


def _set_lr(optimizer: torch.optim.Optimizer, recipe: Recipe, epoch: int) -> float:
    lr = recipe.lr_at(epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def _result(run: Path, history: list[dict[str, Any]], stopped_early: bool, model) -> TrainResult:
    best = min(history, key=lambda h: h["valid_nats"]) if history else None
    return TrainResult(run, len(history), best["epoch"] if best else None, best["valid_nats"] if best else None,
                       stopped_early, history, model)


def _step(model, optimizer: torch.optim.Optimizer, loss: torch.Tensor, recipe: Recipe) -> None:
    """Backward, clip as the recipe says, update."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if recipe.clip == "value":
        torch.nn.utils.clip_grad_value_(model.parameters(), recipe.clip_value)
    elif recipe.clip == "norm":
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_value)
    optimizer.step()


@dataclass
class _Begun:
    """A run's starting point: a fresh model, or the last finished epoch of an earlier run."""

    model: Any
    start_epoch: int
    history: list[dict[str, Any]]
    best: str | None
    last: str | None
    checkpoint: Path | None = None  # the epoch resumed from
    note: str = ""  # said before the run's header

    def restore(self, optimizer: torch.optim.Optimizer, device: torch.device) -> None:
        """The optimizer and random generators as they were at the end of the resumed epoch."""
        if self.checkpoint is None:
            return
        import safetensors.torch

        from .fileio import sha256_bytes

        meta = read_config(self.checkpoint)["training"]
        state_bytes = (self.checkpoint / TRAINING_STATE).read_bytes()
        if sha256_bytes(state_bytes) != meta.get("sha256"):
            raise ZooError(f"{self.checkpoint / TRAINING_STATE} does not match its config: the checkpoint is damaged")
        _restore_training_state(optimizer, safetensors.torch.load(state_bytes), meta, device)


def saved_recipe(run: str | Path) -> tuple[dict[str, Any], str] | None:
    """The recipe a run's last epoch was trained with (see `_recorded_recipe`) and its task, so
    that --resume continues the run as it was begun; None where `run` holds no run."""
    previous = read_run(run)
    if not previous:
        return None
    config = read_config(Path(run) / previous["last"])
    return _recorded_recipe(config), config["model"].get("task") or "next-char"


def _recorded_recipe(config: dict[str, Any]) -> dict[str, Any]:
    """The recipe a checkpoint's config records, fields added to `Recipe` since at their defaults
    then (those of `Recipe()`)."""
    return {**dataclasses.asdict(Recipe()), **(config.get("recipe") or {})}


def _begin(run: Path, model_name: str, corpus: Corpus, recipe: Recipe, resume: bool, device: torch.device,
           make_model: Callable[[], Any]) -> _Begun:
    """A new model (seeded, initialized, on `device`) or, with `resume`, the run's last epoch."""
    previous = read_run(run)
    if previous and not resume:
        raise ZooError(f"{run} already holds a run: pass --resume to continue it, or choose another --out")
    present = sorted(p.name for p in run.iterdir()) if run.is_dir() and not previous else []
    if resume and not previous and not present:
        raise ZooError(f"nothing to resume in {run} (no {RUN_FILE})")
    # A run writes beside nothing but its own: a folder of the user's is not made a run's.
    foreign = [name for name in present if name not in RUN_ENTRIES and not RUN_FILE_TMP.fullmatch(name)]
    if foreign:
        raise ZooError(f"{run} holds other files ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}): "
                       "choose a new or empty --out")
    check_own_folders(run)
    if previous:
        last_dir = run / previous["last"]
        saved = read_config(last_dir)
        _check_resumable(previous, saved, corpus, recipe, model_name, run)
        clean_leftovers(run, {(run / p).resolve() for p in (previous["last"], previous.get("best")) if p})
        return _Begun(load_checkpoint(last_dir, device=str(device)), saved["training"]["epoch"] + 1,
                      list(previous["history"]), previous.get("best"), previous["last"], last_dir)
    clean_leftovers(run, set())  # a run killed before its first run.json: nothing of it was finished
    note = f"{run} recorded no finished epoch (no {RUN_FILE}): starting at epoch 1" if resume else ""
    torch.manual_seed(recipe.seed)
    model = make_model()
    model.reset_parameters(recipe.init_scale)
    with torch.no_grad():
        for bias in model.forget_biases():
            bias.add_(recipe.forget_bias)
    return _Begun(model.to(device), 1, [], None, None, note=note)


def _announce(log: Callable[[str], None], run: Path, begun: _Begun, recipe: Recipe, header: str) -> None:
    """The run's header, or, for a resumed run already at --epochs, that there is nothing to train."""
    if begun.note:
        log(begun.note)
    done = begun.start_epoch - 1
    if done >= recipe.max_epochs:
        log(f"{run} has trained {done} epochs (--epochs {recipe.max_epochs}): nothing to train")
    else:
        log(header)


def _keep_epoch(run: Path, model_name: str, epoch: int, model, optimizer, sections: dict[str, Any],
                metrics: dict[str, Any], history: list[dict[str, Any]], last: str | None, best: str | None,
                improved: bool) -> tuple[str, str | None]:
    """Write the epoch's checkpoint, point run.json at it, and drop epochs no longer last or best.
    A write that fails (a full disk) leaves the run as it was and says what it keeps."""
    name = epoch_name(epoch)
    stale = {last, best}
    try:
        _write_epoch(run, epoch, model, optimizer, {**sections, "metrics": metrics})
        write_record(run, name, name if improved else best, model_name, history)
    except OSError as exc:
        drop_epoch(run, name)  # written perhaps, but run.json does not name it
        raise ZooError(_not_saved(run, f"epoch {epoch}", last, exc)) from None
    best = name if improved else best
    for old in stale - {None, name, best}:
        drop_epoch(run, old)
    return name, best


def _bad_epochs(history: list[dict[str, Any]]) -> int:
    best, bad = math.inf, 0
    for h in history:
        bad = 0 if h["valid_nats"] < best else bad + 1
        best = min(best, h["valid_nats"])
    return bad


def _check_resumable(previous: dict[str, Any], saved: dict[str, Any], corpus: Corpus, recipe: Recipe,
                     model_name: str, run: Path) -> None:
    if previous.get("model") != model_name:
        raise ZooError(f"{run} trains {previous.get('model')}, not {model_name}: --resume needs the same --model")
    if saved.get("dataset", {}).get("sha256") != corpus.sha256:
        raise ZooError(f"{run} was trained on other data (sha256 {saved.get('dataset', {}).get('sha256')}); "
                       f"--resume needs the same --data and --line-endings")
    old = _recorded_recipe(saved)
    new = dataclasses.asdict(recipe)
    changed = sorted(k for k in new if k not in Recipe.RESUMABLE_CHANGES and old.get(k) != new[k])
    if changed:
        differences = ", ".join(f"{k}: {old.get(k)} -> {new[k]}" for k in changed)
        raise ZooError(f"{run} was trained with a different recipe ({differences}); "
                       "only max_epochs and patience may change on --resume")
