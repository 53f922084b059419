"""Names -> models: `registry.yaml`, model-name parsing, and `create_model`.

A model name is ``<arch>-<layers>x<hidden>``, optionally followed by ``.<tag>`` naming a variant
(for the paper's grid the tag is the dataset: ``lstm-3x512.warpeace``). `registry.yaml` lists the
named models with their conventions, dataset, reference figures and, once released, a Hub
checkpoint pinned to a commit. A well-formed name that the registry lacks still works for an
installed architecture: it is an ad-hoc model of that shape.

This module imports neither torch nor numpy; `create_model` imports the architecture's module.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import BIAS_KINDS, INPUT_KINDS, ModelConfig
from .errors import ZooError
from .fileio import atomic_write, zoo_home
from .plugins import blame, plugins

NAME = re.compile(r"^(?P<arch>[a-z][a-z0-9_]*)-(?P<layers>[1-9][0-9]*)x(?P<hidden>[1-9][0-9]*)"
                  r"(?:\.(?P<tag>[a-z0-9][a-z0-9_-]*))?$")

_OPTIONS = {"type": "object", "additionalProperties": {"type": ["string", "integer", "number", "boolean"]}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema_version", "models"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": 1},
        "architectures": {
            "description": "Architectures that plugins provide, with how to install them.",
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["install"],
                "additionalProperties": False,
                "properties": {"install": {"type": "string"}, "summary": {"type": "string"}},
            },
        },
        "datasets": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_-]*$"},
            "additionalProperties": {
                "type": "object",
                "required": ["split"],
                "additionalProperties": False,
                "properties": {
                    "url": {"type": "string", "pattern": "^(https?|file)://"},
                    "sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
                    "member": {"type": "string"},
                    "bundled": {"type": "string"},
                    "split": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0},
                              "minItems": 3, "maxItems": 3},
                    "description": {"type": "string"},
                },
            },
        },
        "models": {
            "type": "object",
            "propertyNames": {"pattern": NAME.pattern},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string"},
                    "input": {"enum": list(INPUT_KINDS)},
                    "embed_dim": {"type": "integer", "minimum": 1},
                    "dropout": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                    "bias": {"enum": list(BIAS_KINDS)},
                    "options": _OPTIONS,
                    "dataset": {"type": "string"},
                    "vocab_size": {"type": "integer", "minimum": 1},
                    "task": {"type": "string", "minLength": 1, "description": "a registered task (`zoo list`)"},
                    "classes": {
                        "type": "integer", "minimum": 1,
                        "description": "output classes where the head predicts something else than the next "
                                       "character (a task's words)",
                    },
                    "reference": {
                        "type": "object",
                        "required": ["source"],
                        "properties": {
                            "source": {"type": "string"},
                            "test_ce": {"type": ["number", "null"]},
                        },
                    },
                    "bundled": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*$",
                                "description": "a checkpoint directory shipped in zoo/pretrained/"},
                    "released": {
                        "description": "weights released with the zoo: released/<name>/ in the repository, "
                                       "a Hub-ready folder, and its test figure (nats/char, bootstrap s.e.)",
                        "type": "object",
                        "required": ["test_ce", "test_se"],
                        "additionalProperties": False,
                        "properties": {"test_ce": {"type": "number"}, "test_se": {"type": "number"},
                                       "dtype": {"enum": ["float32", "float16", "bfloat16"]}},
                    },
                    "hub": {
                        "type": "object",
                        "required": ["repo_id", "revision"],
                        "additionalProperties": False,
                        "properties": {
                            "repo_id": {"type": "string"},
                            "revision": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                            "sha256": {"type": "object",
                                       "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                        },
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class ModelSpec:
    """A named model: its shape and conventions, and where its facts come from."""

    name: str
    arch: str
    layers: int
    hidden: int
    tag: str | None = None
    input: str = "onehot"
    embed_dim: int | None = None
    dropout: float = 0.0
    bias: str = "single"
    options: dict[str, Any] = field(default_factory=dict)
    dataset: str | None = None
    vocab_size: int | None = None
    task: str = "next-char"
    classes: int | None = None
    description: str = ""
    reference: dict[str, Any] | None = None
    hub: dict[str, Any] | None = None
    bundled: str | None = None
    released: dict[str, Any] | None = None
    registered: bool = True
    variants: tuple[str, ...] = ()

    def config(self, vocab_size: int | None = None, **overrides: Any) -> ModelConfig:
        vocab_size = vocab_size or self.vocab_size
        if vocab_size is None:
            raise ZooError(f"model '{self.name}' needs a vocab_size (the number of characters of its data)")
        options = {**self.options, **overrides.pop("options", {})}
        fields = {"arch": self.arch, "vocab_size": vocab_size, "layers": self.layers, "hidden": self.hidden,
                  "input": self.input, "embed_dim": self.embed_dim, "dropout": self.dropout, "bias": self.bias,
                  "options": options, "task": self.task, "classes": self.classes}
        fields.update(overrides)
        return ModelConfig(**fields)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, (), {}, "")}


PRETRAINED = Path(__file__).parent / "pretrained"
RELEASED = Path(__file__).resolve().parent.parent / "released"  # in a clone of the repository; a wheel has none


def bundled_checkpoint(spec: ModelSpec) -> Path | None:
    """The checkpoint directory a registry entry ships inside the package, if it has one."""
    if not spec.bundled:
        return None
    path = PRETRAINED / spec.bundled
    if not (path / "config.json").is_file():
        raise ZooError(f"model '{spec.name}': its bundled checkpoint {path} is missing (a broken install?)")
    return path


def released_folder(spec: ModelSpec) -> Path | None:
    """A released model's Hub-ready folder in this clone of the repository, if it is here."""
    path = RELEASED / spec.name
    return path if spec.released and (path / "config.json").is_file() else None


def weights_of(spec: ModelSpec) -> Path | dict[str, Any] | None:
    """Where a named model's weights are: a folder here (shipped in the package, or released in
    this clone), else its Hub pin; None when it has none."""
    return bundled_checkpoint(spec) or released_folder(spec) or spec.hub


def resolve_weights(name: str) -> tuple[ModelSpec, Path | dict[str, Any]]:
    """(the named model, where its weights are). A name without a tag (``lstm-3x512``) stands for
    the first of its registered variants that has weights, as the registry lists them."""
    spec = resolve(name)
    for candidate in (spec, *(registry().models[v] for v in spec.variants)):
        where = weights_of(candidate)
        if where is not None:
            return candidate, where
    if spec.released:
        raise ZooError(f"model '{spec.name}' is released with the zoo's source repository but not yet on the Hub: "
                       f"use it from a clone (released/{spec.name}/), or pass a checkpoint directory")
    raise ZooError(_no_weights(spec))


def _no_weights(spec: ModelSpec) -> str:
    """Why a named model cannot be loaded, and a command that trains it as printed (on its
    dataset where that downloads by name, else on the bundled sample), with released models of
    the same architecture and task that would do at once."""
    reg = registry()
    name = spec.variants[0] if spec.variants else spec.name
    dataset = reg.models[name].dataset if name in reg.models else None
    downloadable = dataset in reg.datasets and ("url" in reg.datasets[dataset] or "bundled" in reg.datasets[dataset])
    data = dataset if downloadable else "sample"
    what = f"{spec.name} and its variants have" if spec.variants else f"model '{spec.name}' has"
    hint = f"{what} no released weights: train one with `zoo train --model {name} --data {data}`"
    if spec.layers * spec.hidden >= 1024:
        hint += " (several hours to days on a CPU; --device cuda trains it in minutes on a GPU)"
    similar = [n for n, s in reg.models.items()  # one that does the same thing: same architecture, same task
               if s.arch == spec.arch and s.task == spec.task and weights_of(s) is not None]
    return hint + (f", or use a released {spec.arch}: {', '.join(similar)}" if similar else "")


class Registry:
    """The parsed, validated contents of a registry file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        data = _load_validated(self.path)
        self.install_hints: dict[str, str] = {k: v["install"] for k, v in (data.get("architectures") or {}).items()}
        self.datasets: dict[str, dict[str, Any]] = dict(data.get("datasets") or {})
        self.models: dict[str, ModelSpec] = {}
        for name, entry in (data.get("models") or {}).items():
            self._add(name, entry or {})
        for entry in plugins().entries["model"].values():  # named models that plugins contribute
            self._add_from_plugin(entry)

    def _add(self, name: str, entry: dict[str, Any]) -> None:
        parsed = NAME.match(name)
        assert parsed is not None  # the schema checked the pattern
        self.models[name] = ModelSpec(name=name, arch=parsed["arch"], layers=int(parsed["layers"]),
                                      hidden=int(parsed["hidden"]), tag=parsed["tag"], **entry)

    def _add_from_plugin(self, entry) -> None:
        import warnings

        import jsonschema

        where = f"model '{entry.name}' from plugin '{entry.plugin}'"
        if entry.name in self.models:
            warnings.warn(f"{where} skipped: {self.path.name} already defines it", stacklevel=4)
            return
        models = SCHEMA["properties"]["models"]
        try:
            jsonschema.validate({entry.name: entry.target}, {**models, "maxProperties": 1})
        except jsonschema.ValidationError as exc:
            warnings.warn(f"{where} skipped: {exc.message}", stacklevel=4)
            return
        self._add(entry.name, dict(entry.target))

    def resolve(self, name: str) -> ModelSpec:
        """The spec for `name`: a registry entry, or an ad-hoc shape of an installed architecture."""
        if name in self.models:
            return self.models[name]
        parsed = NAME.match(name)
        if parsed and parsed["tag"] is None:
            variants = tuple(n for n in self.models if n.split(".")[0] == name)
            if variants:  # the untagged shape of registered variants: the shape, listing them
                base = self.models[variants[0]]
                return ModelSpec(name=name, arch=base.arch, layers=base.layers, hidden=base.hidden,
                                 input=base.input, embed_dim=base.embed_dim, bias=base.bias,
                                 options=dict(base.options), registered=False, variants=variants)
            arch = parsed["arch"]
            known = arch in plugins().entries["architecture"] or ("architecture", arch) in plugins().conflicts
            if known or arch in self.install_hints:
                return ModelSpec(name=name, arch=arch, layers=int(parsed["layers"]), hidden=int(parsed["hidden"]),
                                 registered=False)
        raise ZooError(self._unknown(name))

    def _unknown(self, name: str) -> str:
        candidates = list(self.models) + sorted({n.split(".")[0] for n in self.models})
        close = difflib.get_close_matches(name, candidates, n=4, cutoff=0.6)
        parsed = NAME.match(name)
        if parsed and parsed["tag"] is None and parsed["arch"] not in plugins().entries["architecture"]:
            archs = ", ".join(plugins().names("architecture")) or "none"
            hint = f"no installed plugin provides architecture '{parsed['arch']}' (installed: {archs})"
            hint += "".join(f"; {line}" for line in plugins().broken("architecture"))
        elif not parsed:
            hint = "model names look like <arch>-<layers>x<hidden>[.<tag>], e.g. lstm-3x512"
        else:
            hint = "no registry entry has that tag"
        suggestion = f"; did you mean {', '.join(close)}?" if close else ""
        return f"unknown model '{name}': {hint}{suggestion}"

    def install_hint(self, arch: str) -> str | None:
        return self.install_hints.get(arch)


def _line_of(root: Any, path: list[Any]) -> int | None:
    """The 1-based line in the YAML source of the node at `path` (keys/indices), or its parent's."""
    import yaml

    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            if match is None:
                match = next((k for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node = match
    return node.start_mark.line + 1


def _load_validated(path: Path) -> dict[str, Any]:
    """The registry file's contents, checked against `SCHEMA`. A file checked before is read from
    a cache keyed by its bytes and the schema (``$ZOO_HOME/cache``), which keeps YAML parsing and
    jsonschema out of `zoo list`'s start-up; any change to either checks it again."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ZooError(f"cannot read registry {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ZooError(f"registry {path} is not UTF-8 text") from exc
    key = hashlib.sha256(raw + json.dumps(SCHEMA, sort_keys=True).encode()).hexdigest()[:32]
    cached = zoo_home() / "cache" / f"registry-{key}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = _parse_and_check(path, text)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cached, json.dumps(data))
    except OSError:  # a read-only home only costs the cache
        pass
    return data


def _parse_and_check(path: Path, text: str) -> dict[str, Any]:
    import jsonschema  # only here: validation is the one thing that needs it
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ZooError(f"{path}{where}: invalid YAML: {problem}") from exc
    if root is None or not isinstance(data, dict):
        raise ZooError(f"{path}: the registry must be a mapping with schema_version and models")
    _check_duplicate_keys(path, root)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    if error is not None:
        location = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        line = _line_of(root, list(error.absolute_path))
        raise ZooError(f"{path}:{line}: {location}: {error.message}")
    return data


def _check_duplicate_keys(path: Path, node: Any) -> None:
    """YAML silently keeps the last of two equal keys; a registry must not."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if key.value in seen:
                raise ZooError(f"{path}:{key.start_mark.line + 1}: '{key.value}' is defined twice "
                               f"(first on line {seen[key.value]})")
            seen[key.value] = key.start_mark.line + 1
            _check_duplicate_keys(path, value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(path, item)


def registry_path() -> Path:
    """`ZOO_REGISTRY` if set, else the `registry.yaml` shipped with the package."""
    return Path(os.environ.get("ZOO_REGISTRY") or Path(__file__).with_name("registry.yaml"))


@functools.cache
def registry() -> Registry:
    return Registry(registry_path())


def resolve(name: str) -> ModelSpec:
    return registry().resolve(name)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a glob pattern (``"lstm-*"``, ``"*.linux"``)."""
    import fnmatch

    return [n for n in registry().models if fnmatch.fnmatchcase(n, pattern)]


def list_architectures() -> list[str]:
    return plugins().names("architecture")


def architecture(arch: str) -> type:
    """The class registered as `arch` (imports its module)."""
    entry = plugins().get("architecture", arch, hint=registry().install_hint)
    cls = entry.load()
    from .recurrent import RecurrentLM

    if not (isinstance(cls, type) and issubclass(cls, RecurrentLM)):
        raise ZooError(f"plugin '{entry.plugin}' registered architecture '{arch}' as {cls!r}, "
                       "which is not a zoo.RecurrentLM")
    return cls


def create_model(name: str | ModelConfig, vocab_size: int | None = None, vocab: Any = None, **overrides: Any):
    """A freshly initialized model from a registry name or a `ModelConfig`.

    `vocab` (a `zoo.Vocab`) sets `vocab_size` and is attached to the model; `overrides` replace
    config fields (``dropout=0.5``, ``options={"depth": 3}``).
    """
    if vocab is not None:
        vocab_size = len(vocab)
    if isinstance(name, ModelConfig):
        config = name.replace(**({"vocab_size": vocab_size} if vocab_size else {}), **overrides)
    else:
        config = resolve(name).config(vocab_size, **overrides)
    from .tasks import get_task

    get_task(config.task).check_config(config)
    cls = architecture(config.arch)
    with blame("architecture", config.arch):  # a plugin's broken constructor: one line naming it
        return cls(config, vocab=vocab)
