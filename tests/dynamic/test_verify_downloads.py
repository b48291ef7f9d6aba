"""`verify` never fetches pretrained weights (issue 20, item 8): an entry point whose default
would load them (`weights="imagenet"`, `pretrained=True`) is built with them off, the worker
has no network, and code that downloads anyway ends with exit 2 and a line naming the URL,
the call and `--allow-downloads`. The download URLs are on `.invalid` hosts, so even a
broken block could not reach a server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support import assert_input_error, portlint, shown, write

pytestmark = pytest.mark.slow  # verify builds real TensorFlow/Keras and torch models

URL = "https://weights.example.invalid/tiny_weights.h5"
KERAS = f"""\
import keras
from keras import layers


def TinyNet(weights="imagenet", input_shape=(8, 8, 3)):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(4, 3, use_bias=False)(inputs)
    model = keras.Model(inputs, x)
    if weights == "imagenet":
        model.load_weights(keras.utils.get_file("tiny_weights.h5", "{URL}"))
    return model


def AlwaysDownloads(input_shape=(8, 8, 3)):
    keras.utils.get_file("tiny_weights.h5", "{URL}")
    return TinyNet(weights=None, input_shape=input_shape)
"""
TORCH = """\
import torch.nn as nn
from torch.hub import load_state_dict_from_url


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)

    def forward(self, x):
        return self.conv(x)


def tiny(pretrained=True):
    model = Tiny()
    if pretrained:
        model.load_state_dict(load_state_dict_from_url("https://hub.example.invalid/tiny.pth"))
    return model
"""


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "keras_tiny.py", KERAS), write(tmp_path / "torch_tiny.py", TORCH)


def test_default_pretrained_weights_are_turned_off(pair, tmp_path: Path):
    keras, torch = pair
    result = portlint("verify", f"{keras}::TinyNet", f"{torch}::tiny", "--format", "json",
                      cwd=tmp_path)
    assert result.returncode in (0, 1), shown(result)
    dynamic = json.loads(result.stdout)["pairs"][0]["dynamic"]
    assert dynamic["keras"]["trainable"] == dynamic["torch"]["parameters"] == 108
    notes = json.dumps(dynamic)
    assert "built with weights=None: its default 'imagenet'" in notes, notes
    assert "built with pretrained=False: its default True" in notes, notes


def test_code_that_downloads_anyway_gets_a_clear_message(pair, tmp_path: Path):
    keras, torch = pair
    result = portlint("verify", f"{keras}::AlwaysDownloads", f"{torch}::tiny", cwd=tmp_path)
    line = assert_input_error(result, r"building the Keras model needs the network",
                              r"`keras\.src\.utils\.file_utils\.get_file` tried to download "
                              + URL.replace(".", r"\."), r"keras_tiny\.py:15\)",
                              r"--allow-downloads")
    assert "URL fetch failure" not in line


def test_explicit_args_are_respected_and_blocked(pair, tmp_path: Path):
    keras, torch = pair
    result = portlint("verify", f"{keras}::TinyNet", f"{torch}::tiny(pretrained=True)",
                      cwd=tmp_path)
    assert_input_error(result, r"building the PyTorch model needs the network",
                       r"tried to download https://hub\.example\.invalid/tiny\.pth")


def test_allow_downloads_lifts_the_block(pair, tmp_path: Path):
    keras, torch = pair
    result = portlint("verify", f"{keras}::AlwaysDownloads", f"{torch}::tiny",
                      "--allow-downloads", cwd=tmp_path)
    # The host does not exist: the download itself fails, not portlint's block.
    line = assert_input_error(result, r"building the Keras model failed|importing")
    assert "needs the network" not in line and "example.invalid" in line, line


KERAS_APPS = Path("/work/corpora/keras-3.15.1/keras/src/applications")


@pytest.mark.skipif(not (KERAS_APPS / "resnet.py").exists(), reason="real corpus absent")
def test_real_keras_resnet50_builds_without_its_imagenet_weights(pair, tmp_path: Path):
    """Keras Applications' ResNet50 (default weights="imagenet"): about 15 s and 0.5 GB."""
    _, torch = pair
    start = time.monotonic()
    result = portlint("verify", f"{KERAS_APPS / 'resnet.py'}::ResNet50", f"{torch}::tiny",
                      "--format", "json", cwd=tmp_path)
    assert result.returncode in (0, 1), shown(result)
    dynamic = json.loads(result.stdout)["pairs"][0]["dynamic"]
    assert dynamic["keras"]["trainable"] + dynamic["keras"]["non_trainable"] == 25_636_712
    assert "built with weights=None" in json.dumps(dynamic)
    assert time.monotonic() - start < 170
