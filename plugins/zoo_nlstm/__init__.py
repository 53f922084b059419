"""First-party plugin: the Nested LSTM (Moniz & Krueger 2018) as Madsen 2019 (Distill) defines it."""

import zoo


@zoo.hookimpl
def zoo_register_architectures(register):
    register("nlstm", "zoo_nlstm.model:NestedLSTM",
             summary="Nested LSTM, depth >= 2 (step loop; compiled for GPU training)")
