"""First-party plugin: Madsen 2019's autocomplete task (Distill, "Visualizing memorization in RNNs").

A model reads characters and predicts the word being typed. The plugin registers the task
(`zoo train --task autocomplete`), the `zoo autocomplete` command that asks a trained model for
suggestions, and the accuracy-by-known-characters analyzer, all through the ``zoo``
entry-point group like any third-party plugin; the targets are strings, so ``zoo --help`` and
``zoo list`` never import torch.
"""

import zoo


@zoo.hookimpl
def zoo_register_tasks(register):
    register("autocomplete", "zoo_autocomplete.task:Autocomplete",
             summary="the word being typed, at every character (Madsen 2019, on text normalized as text8)")


@zoo.hookimpl
def zoo_register_commands(register):
    register("autocomplete", "zoo_autocomplete.command:autocomplete",
             summary="Suggest the word being typed, from an autocomplete model.")


@zoo.hookimpl
def zoo_register_analyzers(register):
    register("accuracy-by-known-chars", "zoo_autocomplete.analyzer:AccuracyByKnownChars",
             summary="Autocomplete accuracy by letters of the word already read (Madsen 2019)")
