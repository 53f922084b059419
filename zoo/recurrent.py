"""`RecurrentLM`: the base class of every recurrent architecture, and `Trace`, what it records.

A model is: characters -> input vectors (one-hot or a learned embedding) -> a stack of recurrent
layers -> a linear softmax head. An architecture subclass supplies only the layers:

* `build_layers()` creates the parameters;
* `cell(layer, xp, state)` advances one layer by one step and returns its internals by name;
* `project(layer, x)` (optional) does the input-side work of a whole sequence at once;
* `run(x, state)` (optional) is a fast path over whole sequences, e.g. torch's fused kernels,
  or for training on a GPU a compiled step function (`zoo.compiled`). Without it, `run` loops
  over `cell`, which is always correct, merely slower.

`trace()` records every internal as one ``[batch, time, hidden]`` tensor under a stable name,
``layers.{l}.{name}``, by default with the same step loop; an architecture may override
`trace_layer` with a faster method and the conformance kit (`zoo.testing`) checks the two agree.

`intervene()` replaces internals while the model reads, on the same step loop, and lets the change
flow on through the recurrence. A cell that takes an ``edit`` argument applies it to each internal
as soon as it computes it (``cell(layer, xp, state, edit=None)``: ``value = edit(name, value)``), so
every internal can be replaced; any other cell's state entries (``h``, and ``c`` where the state
holds it under that name) are replaced as the step hands them on, with no code of its own.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import BIAS_KINDS, ModelConfig
from .errors import ZooError
from .params import Option, Param  # noqa: F401  (zoo.recurrent.Option: the older name, still importable)
from .vocab import Vocab

State = tuple[Tensor, ...]
"""A model's recurrent state: one tensor per entry of `state_names`, each ``[layers, batch, hidden]``."""

NameFilter = None | str | Iterable[str] | Callable[[str], bool]

Edit = Callable[[Tensor, int], Tensor]
"""An intervention on one internal: ``edit(value [B, H], t) -> the value the model goes on with``."""

INIT_SCALE = 0.08
"""The range a new model's parameters start in, uniform in [-INIT_SCALE, INIT_SCALE]: the paper's
(and char-rnn's) choice, and `Recipe.init_scale`'s default."""


@dataclass
class Trace(Mapping[str, Tensor]):
    """What `RecurrentLM.trace` recorded: named internals plus the outputs.

    Behaves as a read-only mapping ``name -> [batch, time, hidden]`` (names such as
    ``layers.0.f``). `gates` lists the recorded names that are sigmoid gates (values in [0, 1]),
    which is what a saturation analysis reads.
    """

    internals: dict[str, Tensor]
    logits: Tensor
    state: State
    gates: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> Tensor:
        try:
            return self.internals[name]
        except KeyError:
            raise KeyError(f"'{name}' was not recorded (recorded: {', '.join(self.internals) or 'nothing'})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.internals)

    def __len__(self) -> int:
        return len(self.internals)

    def log_probs(self) -> Tensor:
        return F.log_softmax(self.logits, dim=-1)


def _name_matcher(names: NameFilter) -> Callable[[str], bool]:
    if names is None:
        return lambda name: True
    if callable(names):
        return names
    patterns = [names] if isinstance(names, str) else list(names)
    return lambda name: any(fnmatch.fnmatchcase(name, p) for p in patterns)


class RecurrentLM(nn.Module):
    """A character-level recurrent language model (see the module docstring for the contract).

    Subclasses set the class attributes below and implement `build_layers` and `cell`.

    arch:        the registered name.
    state_names: the per-layer state tensors, first of all ``"h"``, the layer's output.
    options:     the architecture's conventions, each a `zoo.Param`; defaults are written into the
                 config, so a checkpoint states the convention it was trained with.
    biases:      the bias layouts `build_layers` implements: ``"single"`` (one bias per gate
                 block) and/or ``"double"`` (input and recurrent biases, as torch keeps them);
                 asking for another is refused instead of silently ignored.
    """

    arch: ClassVar[str] = ""
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    options: ClassVar[dict[str, Param]] = {}
    biases: ClassVar[tuple[str, ...]] = BIAS_KINDS

    compile_devices: tuple[str, ...] = ("cuda",)
    """For an architecture that trains through a compiled step function (`zoo.compiled`): the
    devices where it does (`compiles`); elsewhere its step loop is faster than compiling it."""
    compile_chunk: int = 25
    """Steps per compiled call: longer chunks launch less often but compile for longer."""
    compile_mode: str | None = None
    """`torch.compile`'s mode (None: its default; "reduce-overhead" adds CUDA graphs)."""

    def __init__(self, config: ModelConfig, vocab: Vocab | None = None):
        super().__init__()
        self.config = self.resolve_config(config)
        if vocab is not None and len(vocab) != config.vocab_size:
            raise ZooError(f"the vocabulary has {len(vocab)} characters but the config says {config.vocab_size}")
        self.vocab = vocab
        self._transposed_cache: dict[int, tuple[Any, Tensor]] = {}
        cfg = self.config
        if cfg.input == "embedding":
            self.embedding = nn.Embedding(cfg.vocab_size, cfg.input_size)
        else:
            self.register_buffer("onehot", torch.eye(cfg.vocab_size), persistent=False)
        self.build_layers()
        self.head = nn.Linear(cfg.hidden, cfg.output_size)
        self.words = None  # the names of the output classes (`zoo.vocab.WordVocab`) when they are words
        self._edits: dict[int, dict[str, Edit]] = {}  # layer -> internal -> edit, while `intervene` holds
        self.reset_parameters(INIT_SCALE)  # always with the scale: an override may take no default

    # -- configuration ------------------------------------------------------------------------
    @classmethod
    def resolve_config(cls, config: ModelConfig) -> ModelConfig:
        """`config` with every option of this architecture present and checked."""
        if config.bias not in cls.biases:
            raise ZooError(f"{cls.arch}: bias={config.bias!r} is not supported (this architecture implements: "
                           f"{', '.join(cls.biases)})")
        unknown = sorted(set(config.options) - set(cls.options))
        if unknown:
            known = ", ".join(cls.options) or "none"
            raise ZooError(f"{cls.arch}: unknown option(s) {', '.join(unknown)} (known: {known})")
        options = {key: opt.coerce(key, config.options.get(key, opt.default), f"{cls.arch}: option")
                   for key, opt in cls.options.items()}
        return config.replace(arch=cls.arch or config.arch, options=options)

    def transposed(self, weight: Tensor) -> Tensor:
        """``weight.t()`` for the step loop's matrix products.

        Without autograd it is a contiguous copy, cached until the weight changes (its version
        counter or storage moves): a one-row product reads a contiguous transpose about 2.5x
        faster on CPU, which is what makes sampling fast. With autograd it is the plain view."""
        if weight.requires_grad and torch.is_grad_enabled():
            return weight.t()
        key = id(weight)
        cached = self._transposed_cache.get(key)
        stamp = (weight._version, weight.data_ptr(), weight.device)
        if cached is None or cached[0] != stamp:
            cached = (stamp, weight.detach().t().contiguous())
            self._transposed_cache[key] = cached
        return cached[1]

    def reset_parameters(self, scale: float = INIT_SCALE) -> None:
        """Uniform initialization in [-scale, scale], the paper's (and char-rnn's) choice.

        The zoo always passes `scale` (the constructor `INIT_SCALE`, the trainer the recipe's
        `init_scale`, the conformance kit 0.5), so an override ``reset_parameters(self, scale)``
        needs no default; it calls ``super().reset_parameters(scale)`` and then sets its own."""
        for p in self.parameters():
            nn.init.uniform_(p, -scale, scale)

    def forget_biases(self) -> list[Tensor]:
        """The bias entries of every forget gate, as views into the parameters, so that a recipe
        can start them open (`Recipe.forget_bias`). Architectures without forget gates: none."""
        return []

    # -- what a subclass provides -------------------------------------------------------------
    def build_layers(self) -> None:
        raise NotImplementedError

    def layer_input_size(self, layer: int) -> int:
        return self.config.input_size if layer == 0 else self.config.hidden

    @property
    def internal_names(self) -> tuple[str, ...]:
        """Per-layer names `cell` reports, e.g. ``("i", "f", "g", "o", "c", "h")``."""
        return ("h",)

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The per-layer internals that are sigmoid gates (an analyzer may threshold them)."""
        return ()

    def project(self, layer: int, x: Tensor) -> Tensor:
        """Input-side work for a whole sequence ``[B, T, I]``; `cell` receives its time slices."""
        return x

    def cell(self, layer: int, xp: Tensor, state: State) -> tuple[State, dict[str, Tensor]]:
        """One step of one layer: ``xp`` is ``[B, ...]`` from `project`, ``state`` this layer's
        ``[B, H]`` tensors in `state_names` order. Returns the new state and the internals."""
        raise NotImplementedError

    def run(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        """All layers over a whole sequence: ``x [B, T, I]`` -> (top ``h [B, T, H]``, new state).
        The default loops over `cell`; architectures with a fused kernel override it."""
        return self.run_loop(x, state)

    # -- shared machinery ---------------------------------------------------------------------
    def compiles(self, x: Tensor) -> bool:
        """Whether `run` should take the architecture's compiled path (if it has one) for ``x``:
        when training (train mode, autograd on) on one of `compile_devices`. Evaluation,
        sampling and the analyzers keep the step loop, where compiling costs more than it saves."""
        return self.training and torch.is_grad_enabled() and x.device.type in self.compile_devices

    @property
    def cell_names(self) -> tuple[str, ...]:
        """The per-layer internals that are memory cells: by convention named ``c`` (or ending in
        ``.c``, like the Nested LSTM's ``nest.{k}.c``)."""
        return tuple(n for n in self.internal_names if n == "c" or n.endswith(".c"))

    @property
    def names(self) -> tuple[str, ...]:
        """Every name `trace` can record."""
        return tuple(f"layers.{layer}.{n}" for layer in range(self.config.layers) for n in self.internal_names)

    @property
    def gates(self) -> tuple[str, ...]:
        """Every recordable gate, by full name (``layers.{l}.{gate}``)."""
        return tuple(f"layers.{layer}.{n}" for layer in range(self.config.layers) for n in self.gate_names)

    @property
    def capabilities(self) -> frozenset[str]:
        """What analyzers may ask of this model (see `zoo.interfaces.Analyzer.requires`)."""
        caps = {"log_probs" if self.config.classes is None else "words", "trace", "gradients", "intervene"}
        if self.gate_names:
            caps.add("gates")
        if self.cell_names:
            caps.add("cells")
        return frozenset(caps)

    def init_state(self, batch_size: int) -> State:
        ref = self.head.weight
        shape = (self.config.layers, batch_size, self.config.hidden)
        return tuple(ref.new_zeros(shape) for _ in self.state_names)

    def _check_state(self, state: State | None, batch_size: int) -> State:
        if state is None:
            return self.init_state(batch_size)
        if len(state) != len(self.state_names):
            raise ZooError(f"{self.arch}: expected a state of {len(self.state_names)} tensors "
                           f"({', '.join(self.state_names)})")
        return tuple(state)

    def embed(self, ids: Tensor) -> Tensor:
        """Input vectors ``[B, T, I]`` for character ids ``[B, T]`` (one-hot rows or embeddings).
        Gradient analyzers differentiate with respect to these."""
        if ids.dtype not in (torch.int64, torch.int32):
            raise ZooError("character ids must be an integer tensor")
        if self.config.input == "embedding":
            return self.embedding(ids)
        return F.embedding(ids, self.onehot)

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits ``[B, T, V]`` for ids ``[B, T]`` and the final state, on the fast path (V: the
        config's `output_size`: the characters, or a task's words)."""
        return self.forward_embedded(self.embed(ids), state)

    def forward_embedded(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """As `forward`, from input vectors ``[B, T, I]`` (see `embed`)."""
        state = self._check_state(state, x.shape[0])
        h, state = self.run_loop(x, state) if self._edits else self.run(x, state)
        if h.shape != (*x.shape[:2], self.config.hidden):  # a cell's mistake, named as its own
            raise ZooError(f"architecture '{self.arch}' returned outputs of shape {list(h.shape)} for an input of "
                           f"{list(x.shape[:2])}: expected [batch, time, hidden] = "
                           f"{[*x.shape[:2], self.config.hidden]}")
        h = F.dropout(h, self.config.dropout, self.training)
        return self.head(h), state

    @torch.no_grad()
    def log_probs(self, ids: Tensor) -> Tensor:
        """The `LanguageModel` contract: ``out[..., t, :]`` is log p(next char | ids[..., :t+1])
        over the whole vocabulary, for ``ids`` of shape ``[T]`` or ``[B, T]``."""
        squeeze = ids.dim() == 1
        logits, _ = self(ids[None] if squeeze else ids)
        out = F.log_softmax(logits, dim=-1)
        return out[0] if squeeze else out

    def run_loop(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        """All layers by the step loop (no recording): the reference path, and the fast one for
        a single step, where a fused kernel's per-call overhead dominates."""
        return self._stack(self.loop_layer, x, state, None, None)

    def _stack(self, layer_fn, x: Tensor, state: State, record, recorded, first: int = 0) -> tuple[Tensor, State]:
        """Layers `first` and up over ``x``; ``state`` holds theirs (``[layers - first, B, H]``)."""
        new_state = []
        for layer in range(first, self.config.layers):
            if layer:
                x = F.dropout(x, self.config.dropout, self.training)
            x, layer_state = layer_fn(layer, x, tuple(s[layer - first] for s in state), record, recorded)
            new_state.append(layer_state)
        return x, tuple(torch.stack(parts) for parts in zip(*new_state))

    def forward_from(self, layer: int, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits ``[B, T, V]`` from layer `layer` up, given that layer's input ``x`` (the output
        ``h`` of the layer below, ``[B, T, H]``; for layer 0 the input vectors, `embed`) and the
        state of the layers from `layer` up (``[layers - layer, B, H]`` each; None: zeros). What
        lies below a layer is the same whatever is done to it, so an experiment on layer 2 need
        not run layers 0 and 1 once per variant. Runs the step loop under `intervene`."""
        if not 0 <= layer < self.config.layers:
            raise ZooError(f"{self.arch} has layers 0 to {self.config.layers - 1}, not {layer}")
        if state is None:
            state = tuple(s[layer:] for s in self.init_state(x.shape[0]))
        fn = self.loop_layer if self._edits or layer else None
        if fn is None:
            h, state = self.run(x, state)
        else:
            h, state = self._stack(fn, x, state, None, None, first=layer)
        return self.head(F.dropout(h, self.config.dropout, self.training)), state

    def loop_layer(self, layer: int, x: Tensor, state: State, record: Callable[[str], bool] | None,
                   recorded: dict[str, Tensor] | None) -> tuple[Tensor, State]:
        """One layer over a whole sequence by the step loop, recording what `record` selects."""
        wanted = []
        if record is not None:
            wanted = [n for n in self.internal_names if record(f"layers.{layer}.{n}")]
        steps: dict[str, list[Tensor]] = {n: [] for n in wanted}
        outputs = []
        edits = self._edits.get(layer)
        for t, xp in enumerate(self.project(layer, x).unbind(1)):
            if edits:
                state, internals = self._edited_cell(layer, xp, state, edits, t)
            else:
                state, internals = self.cell(layer, xp, state)
            if t == 0 and (missing := [n for n in wanted if n not in internals]):
                raise ZooError(f"{self.arch}: cell() returned no {', '.join(missing)}, which internal_names declares "
                               f"(it returned: {', '.join(internals) or 'nothing'})")
            outputs.append(state[0])
            for n in wanted:
                steps[n].append(internals[n])
        if recorded is not None:
            for n in wanted:
                recorded[f"layers.{layer}.{n}"] = torch.stack(steps[n], 1)
        return torch.stack(outputs, 1), state

    def _edited_cell(self, layer: int, xp: Tensor, state: State, edits: dict[str, Edit],
                     t: int) -> tuple[State, dict[str, Tensor]]:
        """One step of `cell` with `edits` applied: inside the cell where it takes ``edit``, else
        to the state entries it hands on (and to the internals it reports under their names)."""
        if self._cell_edits():
            return self.cell(layer, xp, state, edit=lambda name, value: edits[name](value, t) if name in edits
                             else value)
        state, internals = self.cell(layer, xp, state)
        state = tuple(edits[n](s, t) if n in edits else s for n, s in zip(self.state_names, state))
        edited = dict(zip(self.state_names, state))
        return state, {n: edited[n] if n in edits else v for n, v in internals.items()}

    @classmethod
    @functools.cache
    def _cell_edits(cls) -> bool:
        """Whether this architecture's `cell` applies interventions itself (takes ``edit``)."""
        return "edit" in inspect.signature(cls.cell).parameters

    @property
    def intervenable(self) -> tuple[str, ...]:
        """Every internal `intervene` can replace: all of them where `cell` takes ``edit``, else
        the state entries that are internals too (``h``, an LSTM-like ``c``)."""
        names = self.internal_names if self._cell_edits() else tuple(n for n in self.state_names
                                                                     if n in self.internal_names)
        return tuple(f"layers.{layer}.{n}" for layer in range(self.config.layers) for n in names)

    @contextlib.contextmanager
    def intervene(self, edits: Mapping[str, Any], at: Iterable[int] | None = None):
        """While the block runs, the model reads with internals replaced (on the step loop; the
        fused path is untouched outside it), and each change flows on through the recurrence::

            with model.intervene({"layers.2.c": {46: 0.0}}):           # unit 46 held at zero
                logits, _ = model(ids)
            with model.intervene({"layers.1.h": {3: lambda v: v.clamp(-0.1, 0.1)}}, at=[5, 6]):
                trace = model.trace(ids)                                # clamped at steps 5 and 6

        `edits` maps a name of `intervenable` to ``{unit: value}`` (a number, or a function of the
        unit's ``[B]`` values) or to an `Edit` of the whole ``[B, H]`` internal, ``f(value, t)``.
        `at` limits ``{unit: value}`` edits to those steps (0-based, counted in each call)."""
        compiled = self._compile_edits(edits, None if at is None else frozenset(at))
        previous, self._edits = self._edits, compiled
        try:
            yield self
        finally:
            self._edits = previous

    def _compile_edits(self, edits: Mapping[str, Any], at: frozenset[int] | None) -> dict[int, dict[str, Edit]]:
        compiled: dict[int, dict[str, Edit]] = {}
        allowed = set(self.intervenable)
        for name, edit in edits.items():
            if name not in allowed:
                why = (f"{self.arch} replaces only {', '.join(self.intervenable)}" if name in self.names else
                       f"no such internal (layers 0 to {self.config.layers - 1}; {', '.join(self.internal_names)})")
                raise ZooError(f"cannot intervene on '{name}': {why}")
            _, layer, short = name.split(".", 2)
            compiled.setdefault(int(layer), {})[short] = edit if callable(edit) else self._unit_edit(name, edit, at)
        return compiled

    def _unit_edit(self, name: str, units: Mapping[int, Any], at: frozenset[int] | None) -> Edit:
        """``{unit: number or function}`` as an `Edit`."""
        if not isinstance(units, Mapping) or not units:
            raise ZooError(f"intervene: '{name}' needs {{unit: value}} or a function of (value, t)")
        for unit in units:
            if not isinstance(unit, int) or not 0 <= unit < self.config.hidden:
                raise ZooError(f"intervene: '{name}' has units 0 to {self.config.hidden - 1}, not {unit!r}")

        def edit(value: Tensor, t: int) -> Tensor:
            if at is not None and t not in at:
                return value
            value = value.clone()
            for unit, new in units.items():
                value[:, unit] = new(value[:, unit]) if callable(new) else new
            return value

        return edit

    def trace_layer(self, layer: int, x: Tensor, state: State, record: Callable[[str], bool] | None,
                    recorded: dict[str, Tensor] | None) -> tuple[Tensor, State]:
        """How `trace` runs one layer: the step loop unless an architecture has a faster way to
        get the same internals (the conformance kit compares the two)."""
        return self.loop_layer(layer, x, state, record, recorded)

    def trace(self, ids: Tensor, state: State | None = None, names: NameFilter = None,
              path: str = "auto") -> Trace:
        """Run ``ids [B, T]`` recording internals; `names` selects them (exact names, glob
        patterns such as ``"layers.*.f"``, or a predicate). ``path="loop"`` forces the reference
        step loop. Gradients flow unless the caller disables them."""
        return self.trace_embedded(self.embed(ids), state, names, path)

    def trace_embedded(self, x: Tensor, state: State | None = None, names: NameFilter = None,
                       path: str = "auto") -> Trace:
        """As `trace`, from input vectors (see `embed`)."""
        if path not in ("auto", "loop"):
            raise ZooError(f"trace path must be 'auto' or 'loop', got {path!r}")
        record = _name_matcher(names)
        state = self._check_state(state, x.shape[0])
        recorded: dict[str, Tensor] = {}
        layer_fn = self.loop_layer if path == "loop" or self._edits else self.trace_layer
        h, state = self._stack(layer_fn, x, state, record, recorded)
        h = F.dropout(h, self.config.dropout, self.training)
        ordered = {n: recorded[n] for n in self.names if n in recorded}
        gates = tuple(g for g in self.gates if g in ordered)
        return Trace(ordered, self.head(h), state, gates)

    def num_parameters(self, recurrent_only: bool = False) -> int:
        """Trainable parameters; with `recurrent_only`, those of the recurrent layers alone."""
        params = self.layer_parameters() if recurrent_only else self.parameters()
        return sum(p.numel() for p in params if p.requires_grad)

    def layer_parameters(self) -> Iterator[nn.Parameter]:
        """The recurrent layers' parameters (not the embedding or head)."""
        skip = {id(p) for p in self.head.parameters()}
        if self.config.input == "embedding":
            skip |= {id(p) for p in self.embedding.parameters()}
        return (p for p in self.parameters() if id(p) not in skip)

    def extra_repr(self) -> str:
        cfg = self.config
        return f"arch={cfg.arch}, layers={cfg.layers}, hidden={cfg.hidden}, input={cfg.input}, options={cfg.options}"
