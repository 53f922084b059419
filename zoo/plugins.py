"""Plugin discovery: entry points in the ``zoo`` group, loaded once per process.

Every plugin, the built-in ones under ``plugins/`` included, is found through
``importlib.metadata`` entry points and called through the hooks in `zoo.hookspecs`. A plugin that
fails to import, fails pluggy's validation, or raises inside a hook is reported once, by name, and
skipped; ``ZOO_STRICT_PLUGINS=1`` turns that report into an error. Two plugins registering the
same name make that name unusable (an error naming both) without disabling anything else.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import MEMORY_ADVICE, ZooError, plain_line

GROUP = "zoo"
KINDS = {
    "architecture": "zoo_register_architectures",
    "baseline": "zoo_register_baselines",
    "analyzer": "zoo_register_analyzers",
    "feature": "zoo_register_features",
    "model": "zoo_register_models",
    "task": "zoo_register_tasks",
    "command": "zoo_register_commands",
}


class PluginWarning(UserWarning):
    """A plugin was skipped; the message names it and says why."""


@dataclass(frozen=True)
class Entry:
    """One registered thing: what kind, its name, who registered it, and how to load it."""

    kind: str
    name: str
    target: Any  # the object, or "module:attribute" imported on first use
    summary: str
    plugin: str

    def load(self) -> Any:
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attr = self.target.partition(":")
        try:
            obj = importlib.import_module(module_name)
            for part in attr.split(".") if attr else ():
                obj = getattr(obj, part)
        except Exception as exc:  # a plugin's bug must not become a traceback
            raise ZooError(
                f"{self.kind} '{self.name}' from plugin '{self.plugin}' failed to load "
                f"({self.target}): {type(exc).__name__}: {exc}"
            ) from exc
        return obj


def install_source(dist: metadata.Distribution) -> str | None:
    """Where a distribution came from, as its metadata records it (PEP 610 and PEP 376): "a
    local path", the URL it was installed from, "a package index" (an installer recorded no URL),
    or None where nothing says; so that a checkpoint can later say how to get it back."""
    import json

    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
        installer = (dist.read_text("INSTALLER") or "").strip()
    except (OSError, ValueError):
        return None
    if isinstance(direct, dict) and isinstance(direct.get("url"), str):
        return "a local path" if direct["url"].startswith("file:") else direct["url"]
    return "a package index" if installer else None


@dataclass
class PluginInfo:
    """What `zoo plugins` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    module: str
    hooks: list[str] = field(default_factory=list)
    registers: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    conflicts: list[str] = field(default_factory=list)
    source: str | None = None  # where the distribution was installed from, when its metadata says

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "hooks": self.hooks,
            "registers": self.registers,
            "error": self.error,
            "conflicts": self.conflicts,
            "source": self.source,
        }


OWN_DISTRIBUTION = "rnn-zoo"  # the built-in plugins' distribution: their names are never taken


class Plugins:
    """The discovered plugins and everything they registered."""

    def __init__(self, entry_points: list[metadata.EntryPoint] | None = None, strict: bool | None = None):
        self.strict = os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0") if strict is None else strict
        self.manager = pluggy.PluginManager(GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        self.entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        self.conflicts: dict[tuple[str, str], list[str]] = {}
        self.problems: list[str] = []
        if entry_points is None:
            entry_points = sorted(metadata.entry_points(group=GROUP), key=lambda ep: ep.name)
        for ep in entry_points:
            self._load(ep)
        for kind, hook_name in KINDS.items():
            self._call(kind, hook_name)

    # -- discovery -------------------------------------------------------------------------
    def _problem(self, plugin: str, message: str) -> None:
        line = f"plugin '{plugin}' skipped: {message}"
        if os.environ.get("ZOO_PLUGIN_TRACEBACK", "") not in ("", "0") and sys.exc_info()[0] is not None:
            line += "\n" + traceback.format_exc().rstrip()
        if self.strict:
            raise ZooError(f"{line} (ZOO_STRICT_PLUGINS is set)")
        self.problems.append(line)
        warnings.warn(line, PluginWarning, stacklevel=3)

    def _load(self, ep: metadata.EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
            module=ep.value,
            source=install_source(dist) if dist else None,
        )
        if ep.name in self.info:
            other = self.info[ep.name]
            self._problem(ep.name, f"the name is also used by {other.distribution or other.module}")
            return
        self.info[ep.name] = info
        try:
            plugin = ep.load()
            self.manager.register(plugin, name=ep.name)
        except Exception as exc:
            info.error = f"{type(exc).__name__}: {exc}"
            self._problem(ep.name, info.error)
            return
        info.hooks = self._hooks_of(plugin)
        unknown = [  # a typo in a hook's name would otherwise be silently ignored
            name for name in dir(plugin)
            if hasattr(getattr(plugin, name, None), "zoo_impl") and name not in KINDS.values()
        ]
        if unknown:
            info.error = f"unknown hook(s) {', '.join(unknown)}"
            self.manager.unregister(plugin)
            self._problem(ep.name, info.error)

    def register(self, plugin: Any, name: str) -> None:
        """Add a plugin in-process (a module or any object with ``@zoo.hookimpl`` methods), as an
        entry point would: for notebooks and tests. Its registrations join the others'."""
        if name in self.info:
            raise ZooError(f"a plugin named '{name}' is already registered")
        self.info[name] = PluginInfo(name=name, distribution=None, version=None, module=type(plugin).__name__)
        self.manager.register(plugin, name=name)
        self.info[name].hooks = self._hooks_of(plugin)
        for kind, hook_name in KINDS.items():
            self._call(kind, hook_name, only=name)

    def _hooks_of(self, plugin: Any) -> list[str]:
        return sorted(h.name for h in self.manager.get_hookcallers(plugin) or () if h.name.startswith("zoo_"))

    def _call(self, kind: str, hook_name: str, only: str | None = None) -> None:
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():  # in registration order: entry points sorted by name
            plugin = impl.plugin_name
            if only is not None and plugin != only:
                continue
            staged: list[Entry] = []

            def register(name: str, target: Any, summary: str = "", *, _staged=staged, _plugin=plugin) -> None:
                if not isinstance(name, str) or not name:
                    raise ZooError(f"register() needs a non-empty name, got {name!r}")
                _staged.append(Entry(kind, name, target, summary, _plugin))

            try:
                impl.function(register=register)
            except Exception as exc:
                self.info[plugin].error = f"{hook_name} raised {type(exc).__name__}: {exc}"
                self._problem(plugin, self.info[plugin].error)
                continue
            for entry in staged:
                self._add(entry)

    def _add(self, entry: Entry) -> None:
        table = self.entries[entry.kind]
        key = (entry.kind, entry.name)
        if key in self.conflicts:
            self.conflicts[key].append(entry.plugin)
            self.info[entry.plugin].conflicts.append(f"{entry.kind} '{entry.name}' is also registered by "
                                                     + ", ".join(f"'{p}'" for p in self.conflicts[key][:-1]))
            return
        if entry.name in table and self._own(table[entry.name].plugin) != self._own(entry.plugin):
            self._keep_own(table, entry)
            return
        if entry.name in table:
            first = table.pop(entry.name)
            self.conflicts[key] = [first.plugin, entry.plugin]
            self.info[first.plugin].registers[entry.kind].remove(entry.name)
            self.info[first.plugin].conflicts.append(
                f"{entry.kind} '{entry.name}' is also registered by '{entry.plugin}'")
            self.info[entry.plugin].conflicts.append(
                f"{entry.kind} '{entry.name}' is also registered by '{first.plugin}'")
            message = (
                f"{entry.kind} '{entry.name}' is registered by both plugin '{first.plugin}' "
                f"and plugin '{entry.plugin}'"
            )
            if self.strict:
                raise ZooError(message)
            self.problems.append(message + "; uninstall one of them to use it")
            warnings.warn(message, PluginWarning, stacklevel=3)
            return
        table[entry.name] = entry
        self.info[entry.plugin].registers.setdefault(entry.kind, []).append(entry.name)

    def _own(self, plugin: str) -> bool:
        """Whether `plugin` ships with the zoo itself (a built-in, as `zoo plugins` lists it)."""
        return self.info[plugin].distribution == OWN_DISTRIBUTION

    def _keep_own(self, table: dict[str, Entry], entry: Entry) -> None:
        """A built-in's name stays the built-in's: the other plugin's registration of it is
        skipped with a warning, so that no installed plugin can take `lstm` from the zoo."""
        theirs = entry if self._own(table[entry.name].plugin) else table[entry.name]
        if theirs is not entry:  # the built-in came second: it takes the name back
            self.info[theirs.plugin].registers[entry.kind].remove(entry.name)
            table[entry.name] = entry
            self.info[entry.plugin].registers.setdefault(entry.kind, []).append(entry.name)
        info = self.info[theirs.plugin]
        where = f"{info.distribution} {info.version}" if info.distribution else info.module
        note = f"{entry.kind} '{entry.name}' is the zoo's own: this registration is skipped"
        info.conflicts.append(note)
        message = f"plugin '{theirs.plugin}' ({where}): {note} (the plugin must choose another name)"
        if self.strict:
            raise ZooError(message)
        self.problems.append(message)
        warnings.warn(message, PluginWarning, stacklevel=4)

    # -- lookup ----------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        return sorted(self.entries[kind])

    def provider(self, kind: str, name: str) -> dict[str, Any] | None:
        """Who provides `name`: the plugin (entry point), its distribution and version; what a
        checkpoint records so that a missing plugin can be named when it is loaded."""
        entry = self.entries[kind].get(name)
        if entry is None:
            return None
        info = self.info.get(entry.plugin)
        return {"entry_point": entry.plugin, "distribution": info.distribution if info else None,
                "version": info.version if info else None, **({"source": info.source} if info and info.source else {})}

    def broken(self, kind: str | None = None) -> list[str]:
        """One line for each installed plugin that failed to load (with `kind`: only those that
        may have provided one: a plugin whose hooks are known and register no `kind` could not)."""
        lines = []
        for info in self.info.values():
            if kind is not None and info.hooks and KINDS[kind] not in info.hooks:
                continue
            if info.error and not any(info.registers.values()):
                where = f"{info.distribution} {info.version}" if info.distribution else info.module
                lines.append(f"plugin '{info.name}' ({where}) is installed but failed to load: {info.error}")
        return lines

    def get(self, kind: str, name: str, hint: Callable[[str], str | None] | None = None) -> Entry:
        """The entry `name` of `kind`, or a one-line ZooError with close matches."""
        if name in self.entries[kind]:
            return self.entries[kind][name]
        if (kind, name) in self.conflicts:
            both = " and ".join(f"'{p}' ({self.info[p].distribution or self.info[p].module})"
                                for p in self.conflicts[(kind, name)])
            raise ZooError(f"{kind} '{name}' is registered by plugins {both}: uninstall one of them")
        extra = hint(name) if hint else None
        broken = "".join(f"; {line}" for line in self.broken(kind))  # it may be the one that did not load
        if extra:
            raise ZooError(f"{kind} '{name}' is not installed; to get it: {extra}{broken}")
        close = difflib.get_close_matches(name, self.names(kind), n=3, cutoff=0.5)
        known = ", ".join(close) if close else ", ".join(self.names(kind)) or "none installed"
        label = "did you mean" if close else "available"
        raise ZooError(f"unknown {kind} '{name}' ({label}: {known}){broken}")


@functools.cache
def plugins() -> Plugins:
    """The process-wide plugin set, discovered on first use."""
    return Plugins()


def registered(kind: str, name: str) -> Any:
    """The thing registered as `name` of `kind` ("baseline", "feature", "task", ...), loaded: a
    one-line ZooError where none is, or its plugin fails to load."""
    return plugins().get(kind, name).load()


def _tracebacks_wanted() -> bool:
    return any(os.environ.get(var, "") not in ("", "0") for var in ("ZOO_PLUGIN_TRACEBACK", "ZOO_TRACEBACK"))


def _first_line(exc: BaseException) -> str:
    first = str(exc).strip().partition(chr(10))[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# what the allocators say when memory runs out: torch's CPU allocator, the dynamic loader under a
# limit on address space (ulimit -v), the C library's ENOMEM, C++'s bad_alloc
_NO_MEMORY = ("can't allocate memory", "Cannot allocate memory", "std::bad_alloc")


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says that memory ran out, whoever raised it."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    if not isinstance(exc, (RuntimeError, ImportError, OSError)):
        return False
    text = str(exc)
    return (any(words in text for words in _NO_MEMORY)
            or (isinstance(exc, ImportError) and text.rstrip().endswith("failed to map segment from shared object")))


def culprit(exc: BaseException) -> str | None:
    """The plugin whose code `exc` came out of: the outermost plugin frame of its traceback, the
    code zoo called into (a third-party cell that fails inside a built-in base class it extends is
    the third party's failure)."""
    if plugins.cache_info().currsize == 0:
        return None  # discovery never finished: no plugin's code was called
    owners: dict[str, str] = {}  # top-level module -> plugin
    found = plugins()
    for info in found.info.values():
        owners.setdefault(info.module.partition(":")[0].partition(".")[0], info.name)
    for table in found.entries.values():
        for entry in table.values():
            module = entry.target if isinstance(entry.target, str) else getattr(entry.target, "__module__", None)
            if module:
                owners.setdefault(module.partition(":")[0].partition(".")[0], entry.plugin)
    owners.pop("zoo", None)
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", "")).partition(".")[0]
        if module in owners:
            return owners[module]
        tb = tb.tb_next
    return None


def explain(exc: Exception) -> str:
    """One line for an exception nothing else caught: running out of memory, the plugin it came
    from, or a bug in zoo itself; ZOO_TRACEBACK=1 prints the traceback first. Should explaining
    fail in turn (memory ran out, most often), the line is `zoo.errors.plain_line`'s."""
    try:
        if _tracebacks_wanted():
            traceback.print_exception(exc)
        if out_of_memory(exc):  # whoever asked for the memory, the machine has none left: not a bug
            return f"out of memory: {_first_line(exc)} ({MEMORY_ADVICE})"
        plugin = culprit(exc)
        if plugin is not None:
            return f"plugin '{plugin}' failed: {_first_line(exc)} (ZOO_PLUGIN_TRACEBACK=1 shows where)"
        if isinstance(exc, OSError):  # the system's refusal (disk full, permissions), not a bug
            return _first_line(exc)
        return (f"unexpected {_first_line(exc)}: a bug in zoo, please report it with the traceback "
                "ZOO_TRACEBACK=1 prints")
    except Exception as failure:
        return plain_line(exc, failure)


@contextlib.contextmanager
def blame(kind: str, name: str):
    """Run a registered thing's code (an analyzer's `run`, its template) so that a failure in it is
    one line naming the plugin, not a traceback: a broken plugin stops its own command, nothing
    more, and its author reads which one failed. ZOO_PLUGIN_TRACEBACK=1 also prints where."""
    try:
        yield
    except ZooError:
        raise
    except Exception as exc:
        try:
            message = _blamed(kind, name, exc)
        except Exception as failure:  # attributing it failed too (memory ran out, most often): still one line
            message = plain_line(exc, failure)
        raise ZooError(message) from exc


def _blamed(kind: str, name: str, exc: Exception) -> str:
    if _tracebacks_wanted():
        traceback.print_exception(exc)
    if out_of_memory(exc):  # the machine's limit, not the plugin's fault
        return f"{kind} '{name}' ran out of memory: {_first_line(exc)} ({MEMORY_ADVICE})"
    entry = plugins().entries[kind].get(name)
    owner = f" from plugin '{entry.plugin}'" if entry else ""
    return f"{kind} '{name}'{owner} failed: {_first_line(exc)} (ZOO_PLUGIN_TRACEBACK=1 shows where)"
