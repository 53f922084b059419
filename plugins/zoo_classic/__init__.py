"""First-party plugin: the vanilla RNN, LSTM and GRU of Karpathy et al. 2015.

Registered through the ``zoo`` entry-point group like any third-party plugin. The targets are
strings, so ``zoo list`` never imports torch.
"""

import zoo


@zoo.hookimpl
def zoo_register_architectures(register):
    register("rnn", "zoo_classic.models:RNN", summary="Vanilla tanh RNN (fused nn.RNN kernel)")
    register("lstm", "zoo_classic.models:LSTM", summary="LSTM, gates i f g o (fused nn.LSTM kernel)")
    register("gru", "zoo_classic.models:GRU", summary="GRU, gates r z n (fused nn.GRU kernel)")
