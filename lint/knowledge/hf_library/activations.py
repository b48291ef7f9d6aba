# A model of transformers.activations (4.46). Read by portlint's interpreter, never
# imported. `ACT2FN[name]` builds a new activation module each time, as transformers'
# ClassInstantier does; each name maps to the torch module that computes the same
# function (the tanh formulas of gelu_new, gelu_fast and gelu_accurate are GELU's tanh
# approximation), or to a module written in tensor operations where torch has none.
import math

import torch
from torch import nn


class QuickGELUActivation(nn.Module):
    def forward(self, input):
        return input * torch.sigmoid(1.702 * input)


class ClippedGELUActivation(nn.Module):
    def __init__(self, min, max):
        super().__init__()
        self.min = min
        self.max = max

    def forward(self, x):
        return torch.clip(nn.functional.gelu(x), self.min, self.max)


class LaplaceActivation(nn.Module):
    def forward(self, input, mu=0.707107, sigma=0.282095):
        input = (input - mu).div(sigma * math.sqrt(2.0))
        return 0.5 * (1.0 + torch.erf(input))


class ReLUSquaredActivation(nn.Module):
    def forward(self, input):
        relu_applied = nn.functional.relu(input)
        return torch.square(relu_applied)


ACT2CLS = {
    "gelu": (nn.GELU, {}),
    "gelu_python": (nn.GELU, {}),
    "gelu_new": (nn.GELU, {"approximate": "tanh"}),
    "gelu_fast": (nn.GELU, {"approximate": "tanh"}),
    "gelu_accurate": (nn.GELU, {"approximate": "tanh"}),
    "gelu_pytorch_tanh": (nn.GELU, {"approximate": "tanh"}),
    "gelu_10": (ClippedGELUActivation, {"min": -10, "max": 10}),
    "quick_gelu": (QuickGELUActivation, {}),
    "laplace": (LaplaceActivation, {}),
    "leaky_relu": (nn.LeakyReLU, {}),
    "linear": (nn.Identity, {}),
    "mish": (nn.Mish, {}),
    "relu": (nn.ReLU, {}),
    "relu2": (ReLUSquaredActivation, {}),
    "relu6": (nn.ReLU6, {}),
    "sigmoid": (nn.Sigmoid, {}),
    "silu": (nn.SiLU, {}),
    "swish": (nn.SiLU, {}),
    "tanh": (nn.Tanh, {}),
    "prelu": (nn.PReLU, {}),
}


class ClassInstantier:
    def __getitem__(self, key):
        cls, kwargs = ACT2CLS[key]
        return cls(**kwargs)

    def __contains__(self, key):
        return key in ACT2CLS

    def get(self, key, default=None):
        if key in ACT2CLS:
            return self[key]
        return default


ACT2FN = ClassInstantier()


def get_activation(activation_string):
    return ACT2FN[activation_string]


GELUActivation = nn.GELU


def NewGELUActivation():
    return nn.GELU(approximate="tanh")


def PytorchGELUTanh():
    return nn.GELU(approximate="tanh")


SiLUActivation = nn.SiLU
MishActivation = nn.Mish
LinearActivation = nn.Identity
