"""First-party plugin: the paper's count-based baseline, an unpruned modified Kneser-Ney n-gram
estimated by KenLM's lmplz and queried through the kenlm module."""

import zoo


@zoo.hookimpl
def zoo_register_baselines(register):
    register("ngram", "zoo_ngram.model:NGram", summary="Character n-gram, modified Kneser-Ney (KenLM), unpruned")
