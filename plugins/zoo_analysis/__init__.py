"""First-party plugin: the analyzers and text features of Karpathy et al. 2015 (Sections 4.2-4.4) and
Madsen 2019 (connectivity; the autocomplete task's own analyzer comes with its plugin).

Registered through the ``zoo`` entry-point group like any third-party plugin; the targets are
strings, so nothing heavy is imported until an analysis runs.
"""

import zoo

FEATURES = {
    "quote": ("inside_quotes", "inside a double-quoted passage"),
    "line-position": ("line_position", "characters since the last newline"),
    "paren-depth": ("paren_depth", "depth of ( ) brackets"),
    "brace-depth": ("brace_depth", "depth of { } braces"),
    "bracket-depth": ("bracket_depth", "depth of [ ] brackets"),
    "c-comment": ("c_comment", "inside a C comment (/* */ or //)"),
    "c-string": ("c_string", "inside a C string literal"),
    "indent": ("indentation", "indentation of the current line so far"),
    "word-position": ("word_position", "letters read so far in the current word"),
    "after-newline": ("after_newline", "the character just read is a newline"),
    "after-space": ("after_space", "the character just read is a space"),
}


ANALYZERS = {
    "cells": ("cells:Cells",
              "Interpretable cells: every memory cell scored against text features (paper Fig. 2)"),
    "saturation": ("saturation:Saturation",
                   "Gate saturation: how often each gate is nearly closed or open (paper Fig. 3)"),
    "oracles": ("oracles:Oracles",
                "Error analysis: errors removed by a sequence of oracles (paper Section 4.4, Fig. 6)"),
    "error-overlap": ("comparisons:ErrorOverlap",
                      "Errors shared with n-gram models or references, and errors only one makes (paper Fig. 4 left)"),
    "char-probs": ("comparisons:CharProbs",
                   "Mean probability of each correct character, against a reference (paper Fig. 4)"),
    "bracket-distance": ("comparisons:BracketDistance",
                         "Closing brackets by distance to their opening one, against a reference (paper Fig. 5 left)"),
    "line-ends": ("line_ends:LineEnds",
                  "p(line end) after each word by column, against how often lines end there (paper Sec. 4.3, Fig. 2)"),
    "training-kl": ("comparisons:TrainingKL",
                    "A run's checkpoints against references: symmetric KL of the predictions (paper Fig. 5 right)"),
    "model-map": ("comparisons:ModelMap",
                  "Many models in one picture, placed by their predictions (paper Fig. 1 right)"),
    "ablation": ("ablation:Ablation",
                 "Ablation: the top cell of each feature held while the model reads, its cost where the feature is on "
                 "and off, against random units (the paper's cells, made causal)"),
    "connectivity": ("connectivity:Connectivity",
                     "Connectivity: how strongly each earlier input moves each prediction (Madsen 2019)"),
}


@zoo.hookimpl
def zoo_register_analyzers(register):
    for name, (target, summary) in ANALYZERS.items():
        register(name, f"zoo_analysis.{target}", summary=summary)


@zoo.hookimpl
def zoo_register_features(register):
    for name, (function, summary) in FEATURES.items():
        register(name, f"zoo_analysis.features:{function}", summary=summary)
