"""First-party plugin: the paper's n-NN baseline, a one-hidden-layer tanh network on the previous
n characters."""

import zoo


@zoo.hookimpl
def zoo_register_baselines(register):
    register("nnn", "zoo_nnn.model:NNN", summary="n-NN: one tanh hidden layer on the one-hot previous n characters")
