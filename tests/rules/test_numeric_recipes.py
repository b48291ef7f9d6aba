"""The weight permutation that flatten-layout-mismatch prints is executed on real Keras
and real PyTorch models: with it the outputs agree, with a plain transpose they do not."""

from __future__ import annotations

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: F401  (real frameworks: installed by the test extra)
import numpy as np
import pytest
import torch

from portlint.compare import compare

pytestmark = pytest.mark.slow  # builds real TensorFlow/Keras and torch models

KERAS_SRC = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(4, 5, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.Flatten()(x)
    x = layers.Dense(6)(x)
    return keras.Model(inputs, x)
"""
TORCH_SRC = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc1 = nn.Linear(160, 6)

    def forward(self, x):
        return self.fc1(torch.flatten(self.conv(x), 1))
"""


def _models():
    namespace: dict = {}
    exec(KERAS_SRC, namespace)  # the test builds the models; portlint never does
    k_model = namespace["build"]()
    namespace = {}
    exec(TORCH_SRC, namespace)
    t_model = namespace["Net"]().eval()
    conv_k, bias_k = k_model.layers[1].get_weights()
    with torch.no_grad():
        t_model.conv.weight.copy_(torch.from_numpy(conv_k.transpose(3, 2, 0, 1).copy()))
        t_model.conv.bias.copy_(torch.from_numpy(bias_k))
    return k_model, t_model


def _recipe(tmp_path, origin: str, port: str) -> str:
    (tmp_path / "k.py").write_text(KERAS_SRC)
    (tmp_path / "t.py").write_text(TORCH_SRC)
    files = {"keras": str(tmp_path / "k.py"), "torch": str(tmp_path / "t.py")}
    result = compare(files[origin], files[port])
    messages = [f.message for f in result.findings if f.rule == "flatten-layout-mismatch"]
    assert len(messages) == 1
    return messages[0]


def _outputs(k_model, t_model, x_nhwc):
    y_k = np.asarray(k_model(x_nhwc))
    with torch.no_grad():
        y_t = t_model(torch.from_numpy(x_nhwc.transpose(0, 3, 1, 2).copy())).numpy()
    return y_k, y_t


def test_printed_permutation_makes_copied_dense_weights_right(tmp_path):
    message = _recipe(tmp_path, "keras", "torch")
    expression = re.search(r"fc1\.weight = (K\.reshape\([^)]*\)\.permute\([^)]*\)\.reshape\(out, -1\))",
                           message).group(1)
    k_model, t_model = _models()
    kernel, bias = k_model.layers[3].get_weights()
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 3)).astype("float32")
    with torch.no_grad():
        t_model.fc1.weight.copy_(torch.from_numpy(kernel.T.copy()))  # the naive copy
        t_model.fc1.bias.copy_(torch.from_numpy(bias))
    y_k, y_t = _outputs(k_model, t_model, x)
    assert np.abs(y_k - y_t).max() > 1e-2  # silently wrong
    K = torch.from_numpy(kernel)
    weight = eval(expression, {"K": K, "out": kernel.shape[1]})
    with torch.no_grad():
        t_model.fc1.weight.copy_(weight)
    y_k, y_t = _outputs(k_model, t_model, x)
    assert np.abs(y_k - y_t).max() < 1e-4


def test_printed_reverse_permutation_loads_torch_weights_into_keras(tmp_path):
    message = _recipe(tmp_path, "torch", "keras")
    expression = re.search(r"= (W\.reshape\([^)]*\)\.permute\([^)]*\)\.reshape\(-1, out\))",
                           message).group(1)
    k_model, t_model = _models()
    W = t_model.fc1.weight.detach()
    kernel = eval(expression, {"W": W, "out": W.shape[0]}).numpy()
    k_model.layers[3].set_weights([kernel, t_model.fc1.bias.detach().numpy()])
    x = np.random.default_rng(1).normal(size=(2, 4, 5, 3)).astype("float32")
    y_k, y_t = _outputs(k_model, t_model, x)
    assert np.abs(y_k - y_t).max() < 1e-4
