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
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import load_checkpoint, read_config, safetensors_bytes, save_checkpoint
from .data import Corpus
from .devices import pick_device
from .errors import ZooError
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
from .tasks import DEFAULT as DEFAULT_TASK
from .tasks import Task, TaskData, get_task

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


class Callback:
    """Code that joins the training loop at fixed points: an intervention (freeze an input,
    ablate a unit), snapshots, a log of one's own. Override what you need and pass instances to
    `train` or `fit`; each is called on the process that trains (under torchrun: on every one)."""

    def on_start(self, model, fresh: bool) -> None:
        """Before the first step. `fresh`: the model was just made and initialized (False on
        --resume: its weights are the run's and must stay as they were)."""

    def on_step(self, step: int, model) -> None:
        """After each optimizer step; `step` counts from the run's first (1-based)."""

    def on_epoch(self, entry: dict[str, Any], model, best: bool) -> None:
        """After an epoch's validation: `entry` is its history row, `best` whether it improved."""


def fit(model, data: TaskData, recipe: Recipe, *, device: torch.device | str = "cpu",
        optimizer: torch.optim.Optimizer | None = None, history: list[dict[str, Any]] | None = None,
        start_epoch: int = 1, callbacks: list[Callback] | tuple = (), net=None, dist: Distributed | None = None,
        progress: bool = True, log: Callable[[str], None] = print) -> tuple[list[dict[str, Any]], bool]:
    """The epoch loop, for every task and for baselines trained by gradient: the recipe's learning
    rate and clipping, `data`'s batches and loss (the state carried between batches where
    ``data.stateful``), validation after each epoch, early stopping after ``recipe.patience``
    epochs without a better ``valid_nats``, and the callbacks. `net` is what computes the
    forward pass (the model under DistributedDataParallel, or the model). Returns the history
    (`history` with this run's epochs appended) and whether it stopped early."""
    device = torch.device(device)
    dist = dist or Distributed()
    net = net or model
    history = history if history is not None else []
    optimizer = optimizer or make_optimizer(model.parameters(), recipe)
    best_nats = min((h["valid_nats"] for h in history), default=math.inf)
    bad_epochs = _bad_epochs(history)
    clock, stopped_early = _EpochClock(), False
    for epoch in range(start_epoch, recipe.max_epochs + 1):
        if recipe.patience and bad_epochs >= recipe.patience:
            stopped_early = True
            break
        lr = _set_lr(optimizer, recipe, epoch)
        model.train()
        state, running, count = None, torch.zeros((), device=device), 0
        started = time.perf_counter()
        by_char = data.stateful  # streams: a fixed number of characters per step
        bar = progress_bar(data.characters if by_char else data.steps, f"epoch {epoch}/{recipe.max_epochs}",
                           "char" if by_char else "step", progress and dist.main)
        for x, y in data.batches(epoch, dist.rank, dist.world):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits, state = net(x, state if data.stateful else None)
            if count == 0:
                _check_logits(model, x, logits)
            state = _detached(state)
            loss = data.loss(logits, y)
            _step(model, optimizer, loss, recipe)
            running += loss.detach()
            count += 1
            for callback in callbacks:
                callback.on_step((epoch - 1) * data.steps + count, model)
            if not bar.disable and (count % 10 == 0 or count == data.steps):
                bar.set_postfix(loss=f"{running.item() / count:.3f}")
            bar.update(x.numel() * dist.world if by_char else 1)
        bar.close()
        seconds = time.perf_counter() - started
        if not math.isfinite(running.item()):  # nothing after this would be a model: keep the epochs before it
            raise ZooError(f"training diverged in epoch {epoch} (the loss is {running.item() / max(count, 1)}): "
                           "the epochs before it are kept; a lower --lr or --clip-value may train")
        valid = data.validate(model) if dist.main else {"valid_nats": 0.0}
        valid["valid_nats"] = dist.broadcast(valid["valid_nats"], device)
        improved = valid["valid_nats"] < best_nats
        bad_epochs = 0 if improved else bad_epochs + 1
        best_nats = min(best_nats, valid["valid_nats"])
        entry = {"epoch": epoch, "lr": lr, "train_nats": running.item() / max(count, 1), **valid,
                 "seconds": round(seconds, 2), "chars_per_s": round(data.characters / seconds)}
        history.append(entry)
        for callback in callbacks:
            callback.on_epoch(entry, model, improved)
        if dist.main:
            log(f"epoch {epoch}: train {entry['train_nats']:.4f}  valid {data.describe(valid)}  lr {lr:.2e}  "
                f"{entry['chars_per_s']:,} chars/s" + ("  (best)" if improved else "")
                + clock.left(recipe.max_epochs - epoch))
    if dist.main and stopped_early:
        log(f"stopped early: no better validation loss in {recipe.patience} epochs")
    return history, stopped_early


def _check_logits(model, x, logits) -> None:
    """A model's logits are ``[B, T, outputs]`` for a batch ``[B, T]``: a plugin whose forward
    returns anything else is named here, before the loss fails inside torch."""
    config = getattr(model, "config", None)
    if config is None:  # a baseline trained by `fit` (the n-NN) has shapes of its own
        return
    expected = (*x.shape[:2], config.output_size)
    if tuple(logits.shape) != expected:
        raise ZooError(f"architecture '{model.config.arch}' returned logits of shape {list(logits.shape)} for a batch "
                       f"of {list(x.shape[:2])}: expected [batch, time, outputs] = {list(expected)}")


def _detached(state):
    """The state cut from the graph of the batch that made it (a tensor or a tuple of them)."""
    if state is None:
        return None
    if torch.is_tensor(state):
        return state.detach()
    return tuple(s.detach() for s in state)


def make_optimizer(params, recipe: Recipe) -> torch.optim.Optimizer:
    """The recipe's optimizer over `params`."""
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr)
    return torch.optim.RMSprop(params, lr=recipe.lr, alpha=recipe.rmsprop_alpha, eps=1e-8)


def train(model_name: str, corpus: Corpus, recipe: Recipe, out: str | Path, *, task: str | Task = DEFAULT_TASK,
          options: dict[str, Any] | None = None, resume: bool = False, device: str = "auto",
          progress: bool = True, log: Callable[[str], None] = print, overrides: dict[str, Any] | None = None,
          snapshot_every: int = 0, callbacks: list[Callback] | tuple = ()) -> TrainResult:
    """Train `model_name` (a registry name or an ad-hoc shape) for `task` on `corpus` into the run
    directory `out`, holding it (`zoo.runs.hold_run`) while it trains.

    `options`: the task's params (``--set``); `overrides`: the model's config fields (input, bias,
    architecture options). `snapshot_every` > 0 also keeps the model (weights only) every that many
    optimizer steps in ``steps/<step>``, for analyses of the first epochs (the paper's Fig. 5
    right); training is bit-identical on --resume, so the steps of a resumed epoch are written
    again unchanged. `callbacks` join the loop (`Callback`)."""
    with hold_run(Path(out)):
        return _train(model_name, corpus, recipe, Path(out), get_task(task) if isinstance(task, str) else task,
                      options or {}, resume, device, progress, log, overrides or {}, snapshot_every, list(callbacks))


def _train(model_name, corpus, recipe, run, task, options, resume, device, progress, log, overrides, snapshot_every,
           callbacks) -> TrainResult:
    from .params import resolve_params

    dev = pick_device(device)
    dist = Distributed.from_env(dev)
    options = resolve_params(task.params, options, f"task '{task.name}'", task.name)
    begun = _begin(run, model_name, corpus, recipe, resume, dev, task, options, overrides)
    model, data = begun.model, begun.data
    if dist.world > 1 and not data.distributed:
        raise ZooError(f"the task {task.name} trains on one process: run it without torchrun")
    net = model
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    optimizer = make_optimizer(model.parameters(), recipe)
    begun.restore(optimizer, dev)
    sections = {"dataset": data.dataset, "recipe": dataclasses.asdict(recipe)}
    history = list(begun.history)
    keeper = _KeepEpochs(run, model_name, optimizer, sections, history, begun.last, begun.best, dist.main)
    if snapshot_every and dist.main:
        callbacks = [_Snapshots(run, snapshot_every, sections, data.steps, keeper), *callbacks]
    if dist.main:
        _announce(log, run, begun, recipe,
                  f"training {model.config.arch} {model.config.layers}x{model.config.hidden} "
                  f"({model.num_parameters():,} parameters) on {data.name}: {data.summary}, "
                  f"{data.steps} steps per epoch, device {dev}"
                  + (f", {dist.world} processes" if dist.world > 1 else ""))
    for callback in callbacks:
        callback.on_start(model, begun.checkpoint is None)
    history, stopped_early = fit(model, data, recipe, device=dev, optimizer=optimizer, history=history,
                                 start_epoch=begun.start_epoch, callbacks=[keeper, *callbacks], net=net, dist=dist,
                                 progress=progress, log=log)
    dist.close()
    return _result(run, history, stopped_early, model)


class _KeepEpochs(Callback):
    """Write each epoch's checkpoint, point run.json at it, and drop epochs no longer last or best.
    A write that fails (a full disk) leaves the run as it was and says what it keeps."""

    def __init__(self, run: Path, model_name: str, optimizer, sections: dict[str, Any], history: list[dict[str, Any]],
                 last: str | None, best: str | None, main: bool):
        self.run, self.model_name, self.optimizer, self.sections = run, model_name, optimizer, sections
        self.history = history  # the run's, which the loop appends to before each call
        self.last, self.best, self.main = last, best, main

    def on_epoch(self, entry, model, best) -> None:
        if not self.main:
            return
        epoch, name, stale = entry["epoch"], epoch_name(entry["epoch"]), {self.last, self.best}
        metrics = {**{k: v for k, v in entry.items() if k.startswith("valid_")}, "epoch": epoch}
        try:
            _write_epoch(self.run, epoch, model, self.optimizer, {**self.sections, "metrics": metrics})
            write_record(self.run, name, name if best else self.best, self.model_name, self.history)
        except OSError as exc:
            drop_epoch(self.run, name)  # written perhaps, but run.json does not name it
            raise ZooError(_not_saved(self.run, f"epoch {epoch}", self.last, exc)) from None
        self.last, self.best = name, name if best else self.best
        for old in stale - {None, self.last, self.best}:
            drop_epoch(self.run, old)


class _Snapshots(Callback):
    """The model (weights only) every `every` optimizer steps, in the run's ``steps/<step>``."""

    def __init__(self, run: Path, every: int, sections: dict[str, Any], steps: int, keeper: _KeepEpochs):
        self.run, self.every, self.sections, self.steps, self.keeper = run, every, sections, steps, keeper

    def on_step(self, step, model) -> None:
        if step % self.every:
            return
        snapshot = step_folder(self.run, step)
        try:
            save_checkpoint(model, snapshot, **self.sections,
                            metrics={"step": step, "epoch": round(step / self.steps, 6)})
        except OSError as exc:
            shutil.rmtree(snapshot, ignore_errors=True)
            raise ZooError(_not_saved(self.run, f"the snapshot of step {step}", self.keeper.last, exc)) from None


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
    data: TaskData  # the task's examples, for this model
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
    return _recorded_recipe(config), config["model"].get("task") or DEFAULT_TASK


def _recorded_recipe(config: dict[str, Any]) -> dict[str, Any]:
    """The recipe a checkpoint's config records, fields added to `Recipe` since at their defaults
    then (those of `Recipe()`)."""
    return {**dataclasses.asdict(Recipe()), **(config.get("recipe") or {})}


def _begin(run: Path, model_name: str, corpus: Corpus, recipe: Recipe, resume: bool, device: torch.device,
           task: Task, options: dict[str, Any], overrides: dict[str, Any]) -> _Begun:
    """A new model (seeded, initialized, on `device`) or, with `resume`, the run's last epoch;
    with the task's examples for it."""
    from .registry import create_model, resolve

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
        _check_resumable(previous, saved, corpus, recipe, model_name, run, task)
        clean_leftovers(run, {(run / p).resolve() for p in (previous["last"], previous.get("best")) if p})
        model = load_checkpoint(last_dir, device=str(device))
        return _Begun(model, task.prepare(corpus, recipe, options, model=model), saved["training"]["epoch"] + 1,
                      list(previous["history"]), previous.get("best"), previous["last"], last_dir)
    clean_leftovers(run, set())  # a run killed before its first run.json: nothing of it was finished
    note = f"{run} recorded no finished epoch (no {RUN_FILE}): starting at epoch 1" if resume else ""
    spec = resolve(model_name)
    if overrides.get("classes"):
        spec = dataclasses.replace(spec, classes=overrides["classes"])
    data = task.prepare(corpus, recipe, options, spec=spec)
    torch.manual_seed(recipe.seed)
    model = create_model(model_name, vocab=data.vocab, dropout=recipe.dropout,
                         **{**overrides, **data.model_options, "task": task.name})
    model.words = data.words
    model.reset_parameters(recipe.init_scale)
    with torch.no_grad():
        for bias in model.forget_biases():
            bias.add_(recipe.forget_bias)
    if not model.forget_biases() and recipe.forget_bias != task.recipe().forget_bias:  # asked for, not the task's
        warnings.warn(f"--forget-bias {recipe.forget_bias}: architecture '{model.config.arch}' has no forget-gate "
                      "biases (RecurrentLM.forget_biases), so it changes nothing", stacklevel=1)
    return _Begun(model.to(device), data, 1, [], None, None, note=note)


def _announce(log: Callable[[str], None], run: Path, begun: _Begun, recipe: Recipe, header: str) -> None:
    """The run's header, or, for a resumed run already at --epochs, that there is nothing to train."""
    if begun.note:
        log(begun.note)
    done = begun.start_epoch - 1
    if done >= recipe.max_epochs:
        log(f"{run} has trained {done} epochs (--epochs {recipe.max_epochs}): nothing to train")
    else:
        log(header)


def _bad_epochs(history: list[dict[str, Any]]) -> int:
    best, bad = math.inf, 0
    for h in history:
        bad = 0 if h["valid_nats"] < best else bad + 1
        best = min(best, h["valid_nats"])
    return bad


def _check_resumable(previous: dict[str, Any], saved: dict[str, Any], corpus: Corpus, recipe: Recipe,
                     model_name: str, run: Path, task: Task) -> None:
    if previous.get("model") != model_name:
        raise ZooError(f"{run} trains {previous.get('model')}, not {model_name}: --resume needs the same --model")
    trained_for = saved.get("model", {}).get("task") or DEFAULT_TASK
    if trained_for != task.name:
        raise ZooError(f"{run} trains for --task {trained_for}, not {task.name}: --resume continues a run as it was "
                       "begun")
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


@dataclass
class Plan:
    """What `zoo train` was asked for, resolved: the task and its options, the corpus, the recipe,
    the run directory, and the model's config changes."""

    task: Task
    options: dict[str, Any]
    corpus: Corpus
    recipe: Recipe
    out: Path
    overrides: dict[str, Any]


def plan(model_name: str, data: str, *, out: str | Path | None = None, resume: bool = False, task: str | None = None,
         line_endings: str = "lf", split: str | None = None, recipe: dict[str, Any] | None = None,
         settings: list[tuple[str, str]] = (), overrides: dict[str, Any] | None = None,
         progress: bool = True) -> Plan:
    """Resolve a training request as `zoo train` states it. A resumed run keeps its own task and
    recipe (a default changed since does not apply to it); a new one takes its task's (the
    registry entry's, else next-char). The `recipe` fields given override it, and resuming checks
    them. `settings` (``--set KEY=VALUE``) go to the task where it declares the key, else to the
    architecture's options."""
    from .data import load_corpus
    from .registry import architecture as arch_class
    from .registry import resolve

    overrides = dict(overrides or {})
    if resume and (overrides or settings):
        raise ZooError("--resume continues a run as it was configured: drop --input, --embed-dim, --bias and --set")
    try:
        named = resolve(model_name)
    except ZooError:
        if Path(model_name).is_dir() or model_name.startswith("hf:"):  # a checkpoint where a model name belongs
            raise ZooError("--model takes a model name to train from scratch (lstm-2x128, gru-2x149.warpeace), not a "
                           "checkpoint; to continue a run, pass its folder as --out with --resume") from None
        raise
    saved = saved_recipe(out) if resume and out else None
    if saved and task and task != saved[1]:
        raise ZooError(f"{out} trains for --task {saved[1]}, not {task}: --resume continues a run as it was begun")
    chosen = get_task(task or (saved[1] if saved else named.task))
    options = {key: value for key, value in settings if key in chosen.params}
    architecture = {key: value for key, value in settings if key not in chosen.params}
    if architecture:
        known = arch_class(named.arch).options
        for key in architecture.keys() - known.keys():  # before the data is read
            raise ZooError(f"--set {key}: not a parameter of the task {chosen.name} "
                           f"({', '.join(chosen.params) or 'none'}) nor an option of {named.arch} "
                           f"({', '.join(known) or 'none'})")
        overrides["options"] = architecture
    corpus = load_corpus(data, line_endings=line_endings, split=split or chosen.split, progress=progress)
    suffix = "" if chosen.name == DEFAULT_TASK else f".{chosen.name}"
    run = Path(out or f"runs/{model_name.split('.')[0]}.{corpus.name.removesuffix('.txt')}{suffix}")
    saved = saved or (saved_recipe(run) if resume else None)
    base = saved[0] if saved else dataclasses.asdict(chosen.recipe())
    return Plan(chosen, options, corpus, Recipe(**{**base, **(recipe or {})}), run, overrides)
