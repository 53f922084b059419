"""An RNN Zoo plugin outside the zoo: the minimal gated unit.

The hook registers a "module:attribute" string, so discovering this plugin costs no torch import.
"""

import zoo


@zoo.hookimpl
def zoo_register_architectures(register):
    register("mgu", "zoo_mgu.model:MGU", summary="Minimal gated unit (Zhou et al. 2016), example plugin")
