"""The minimal gated unit (Zhou, Wu, Zhang & Zhou 2016), written against zoo's public API only.

    f = sigmoid(W_f x + U_f h + b_f)
    n = tanh(W_n x + U_n (f * h) + b_n)
    h' = (1 - f) * h + f * n

Implementing `build_layers`, `project` and `cell` is all it takes: `run`, `trace`, checkpoints and
every analyzer come from `zoo.RecurrentLM`.
"""

import torch
from torch import nn

import zoo


class MGU(zoo.RecurrentLM):
    arch = "mgu"
    biases = ("single",)  # one bias per gate block; asking for "double" is refused, not ignored

    @property
    def internal_names(self):
        return ("f", "n", "h")

    @property
    def gate_names(self):
        return ("f",)

    def build_layers(self):
        H = self.config.hidden
        self.layers = nn.ModuleList()
        for layer in range(self.config.layers):
            m = nn.Module()
            m.weight_ih = nn.Parameter(torch.empty(2 * H, self.layer_input_size(layer)))
            m.weight_hh = nn.Parameter(torch.empty(2 * H, H))
            m.bias = nn.Parameter(torch.empty(2 * H))
            self.layers.append(m)

    def project(self, layer, x):
        m = self.layers[layer]
        return x @ m.weight_ih.t() + m.bias

    def cell(self, layer, xp, state):
        (h,) = state
        w_f, w_n = self.layers[layer].weight_hh.chunk(2)
        x_f, x_n = xp.chunk(2, dim=-1)
        f = torch.sigmoid(x_f + h @ w_f.t())
        n = torch.tanh(x_n + (f * h) @ w_n.t())
        h = torch.lerp(h, n, f)
        return (h,), {"f": f, "n": n, "h": h}
