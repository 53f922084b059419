"""First-party plugin: the analyzers and text features of Karpathy et al. 2015 (Section 4.2) and
Madsen 2019 (connectivity).

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


@zoo.hookimpl
def zoo_register_analyzers(register):
    register("cells", "zoo_analysis.cells:Cells",
             summary="Interpretable cells: every memory cell scored against text features (paper Fig. 2)")
    register("bracket-distance", "zoo_analysis.comparisons:BracketDistance",
             summary="Closing brackets by distance to their opening one, against a reference (paper Fig. 5 left)")
    register("char-probs", "zoo_analysis.comparisons:CharProbs",
             summary="Mean probability of each correct character, against a reference (paper Fig. 4)")
    register("error-overlap", "zoo_analysis.comparisons:ErrorOverlap",
             summary="Errors shared with n-gram models or references, and errors only one makes (paper Fig. 4 left)")
    register("connectivity", "zoo_analysis.connectivity:Connectivity",
             summary="Connectivity: how strongly each earlier input moves each prediction (Madsen 2019)")
    register("model-map", "zoo_analysis.comparisons:ModelMap",
             summary="Many models in one picture, placed by their predictions (paper Fig. 1 right)")
    register("oracles", "zoo_analysis.oracles:Oracles",
             summary="Error analysis: errors removed by a sequence of oracles (paper Section 4.4, Fig. 6)")
    register("saturation", "zoo_analysis.saturation:Saturation",
             summary="Gate saturation: how often each gate is nearly closed or open (paper Fig. 3)")
    register("training-kl", "zoo_analysis.comparisons:TrainingKL",
             summary="A run's checkpoints against references: symmetric KL of the predictions (paper Fig. 5 right)")


@zoo.hookimpl
def zoo_register_features(register):
    for name, (function, summary) in FEATURES.items():
        register(name, f"zoo_analysis.features:{function}", summary=summary)
