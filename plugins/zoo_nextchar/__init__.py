"""First-party plugin: the next-character task of Karpathy et al. 2015's language models.

Registered through the ``zoo`` entry-point group like any third-party task; the target is a
string, so ``zoo list`` never imports torch.
"""

import zoo


@zoo.hookimpl
def zoo_register_tasks(register):
    register("next-char", "zoo_nextchar.task:NextChar",
             summary="the next character (Karpathy et al. 2015's character language models)")
