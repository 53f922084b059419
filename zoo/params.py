"""Parameters that users set by name: architectures' options and analyzers' parameters alike,
one type (`Param`) and one reader of ``--set KEY=VALUE`` (`settings`).

No torch, no numpy: `zoo list` shows every parameter cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ZooError


@dataclass(frozen=True)
class Param:
    """One documented parameter: an architecture's option (a convention it records in every
    checkpoint), an analyzer's, a task's or a baseline's parameter, with its default, what it
    means, and allowed values.

    The type is the default's (``int``, ``float``, ``bool``, ``str``, or a ``tuple`` of one of
    these, written ``a,b,c`` on the command line); ``None`` as default means "chosen from the
    data" and the parameter takes text. `choices` limits the values; `check` may reject others:
    returning False shows the parameter's `doc` as the reason, raising `ZooError` its own line.
    """

    default: Any
    doc: str
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], bool] | None = None

    def coerce(self, name: str, value: Any, what: str = "parameter") -> Any:
        """`value` (from code, a checkpoint, or a ``--set`` string) as this parameter's type, or a
        one-line error naming it as `what` ("parameter", "lstm: option")."""
        kind = type(self.default)
        try:
            if isinstance(self.default, tuple):
                items = value.split(",") if isinstance(value, str) else list(value)
                item_kind = type(self.default[0]) if self.default else str
                value = tuple(_scalar(item_kind, item) for item in items if item != "")
            elif self.default is not None:
                value = _scalar(kind, value)
        except (TypeError, ValueError):
            raise ZooError(f"{what} {name}={value!r}: expected {_kind_name(self.default)}") from None
        bad = (self.choices is not None
               and any(v not in self.choices for v in (value if isinstance(value, tuple) else (value,))))
        if bad or (self.check is not None and not self.check(value)):
            allowed = ", ".join(map(str, self.choices)) if self.choices else self.doc
            raise ZooError(f"{what} {name}={value!r} is not allowed ({allowed})")
        return value


def _scalar(kind: type, value: Any) -> Any:
    if kind is bool:
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        return bool(value)
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    if kind is str and not isinstance(value, str):
        raise TypeError(value)
    return kind(value.strip() if isinstance(value, str) else value)


def _kind_name(default: Any) -> str:
    if isinstance(default, tuple):
        inner = type(default[0]).__name__ if default else "str"
        return f"a comma-separated list of {inner}"
    return "text" if default is None else type(default).__name__


def Option(default: Any, choices: tuple[Any, ...] | None = None, doc: str = "",  # noqa: N802 (the old class name)
           check: Callable[[Any], bool] | None = None) -> Param:
    """An architecture option written in the older order (default, choices, doc): a `Param`."""
    return Param(default, doc, choices, check)


def resolve_params(params: dict[str, Param], given: dict[str, Any], owner: str, name: str) -> dict[str, Any]:
    """Every parameter of `owner` ("analyzer 'cells'", named `name`): the `given` ones read and
    checked, the others at their defaults; an unknown key is one line listing the known ones."""
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ZooError(f"{owner} has no parameter {', '.join(unknown)} (parameters: {', '.join(params) or 'none'})")
    return {key: param.coerce(f"{name}.{key}", given[key]) if key in given else param.default
            for key, param in params.items()}


def settings(items: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """``--set KEY=VALUE`` items as (key, value) pairs, in order; the owner's `Param` reads each
    value (`Param.coerce`), so the same text means the same thing for an option and a parameter."""
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ZooError(f"--set takes KEY=VALUE, got {item!r}")
        pairs.append((key, value))
    return pairs
