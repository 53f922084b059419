"""The hooks a zoo plugin implements.

A plugin is a module (or object) named in the ``zoo`` entry-point group. It implements any of the
hooks below with ``@zoo.hookimpl``; each hook receives a ``register`` callback instead of returning
a list, so one plugin can register several things and a test can call the hook with a fake
``register``::

    # pyproject.toml of a third-party distribution
    [project.entry-points.zoo]
    mgu = "zoo_mgu"

    # zoo_mgu/__init__.py  (keep it light: import torch only inside the target module)
    import zoo

    @zoo.hookimpl
    def zoo_register_architectures(register):
        register("mgu", "zoo_mgu.model:MGU", summary="Minimal gated unit (Zhou et al. 2016)")

``register(name, target, summary="")``: ``target`` is the class itself, or a ``"module:attribute"``
string that is imported only when the thing is used, so ``zoo list`` stays fast (the built-in
plugins register strings).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def zoo_register_architectures(register):
    """Register recurrent architectures: subclasses of `zoo.RecurrentLM`, created by name."""


@hookspec
def zoo_register_baselines(register):
    """Register baselines: subclasses of `zoo.Baseline` (n-gram, n-NN, ...)."""


@hookspec
def zoo_register_analyzers(register):
    """Register analyzers: subclasses of `zoo.Analyzer` (saturation, connectivity, ...)."""


@hookspec
def zoo_register_features(register):
    """Register text features: functions ``text -> array`` with one value per character, which
    analyzers (the interpretable-cells search) compare with a model's internals. The value at
    position t describes the text after reading character t; a boolean array is an on/off
    feature, a numeric one a graded feature."""


@hookspec
def zoo_register_models(register):
    """Register named models, as `registry.yaml` lists them, without replacing that file:
    ``register("indrnn-2x64.sample", {"dataset": "sample", "description": "..."})``. The entry
    is checked against the registry's schema; a name `registry.yaml` already has is skipped
    with a warning."""


@hookspec
def zoo_register_tasks(register):
    """Register tasks: subclasses of `zoo.Task` (what a model predicts from a text, how it learns
    and is scored), named by ``zoo train --task``."""


@hookspec
def zoo_register_commands(register):
    """Register subcommands of ``zoo``: click commands, e.g. a task's own way of querying its
    models. The module that defines a command is imported when ``zoo --help`` lists it: import
    torch only inside the command's function."""
