"""`portlint compare` between a Keras Applications model and the matching torchvision
model, through the real console script. Only torchvision's source files are needed
(torchvision itself does not import beside the torch the suite uses), so its wheel is
downloaded and unpacked; nothing is imported or run from it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import portlint

TORCHVISION = "torchvision==0.29.1"


@pytest.fixture(scope="module")
def torchvision_models(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("torchvision")
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", TORCHVISION, "--no-deps", "-d", str(folder),
         "-q"], capture_output=True, text=True, timeout=300)
    wheels = list(folder.glob("torchvision-*.whl"))
    if download.returncode != 0 or not wheels:
        pytest.skip(f"cannot download {TORCHVISION}: {download.stderr.strip()[-200:]}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(folder, [n for n in wheel.namelist()
                                  if n.startswith("torchvision/") and n.endswith(".py")])
    return folder / "torchvision" / "models"


def keras_application(name: str) -> Path:
    import keras  # only to locate its source files; the model is not built

    return Path(keras.__file__).parent / "src" / "applications" / name


@pytest.mark.parametrize("keras_ref, torch_ref", [
    ("resnet.py::ResNet50", "resnet.py::resnet50"),
    ("mobilenet_v2.py::MobileNetV2", "mobilenetv2.py::mobilenet_v2"),
    ("vgg16.py::VGG16", "vgg.py::vgg16"),
])
def test_keras_application_against_torchvision(torchvision_models, keras_ref, torch_ref):
    keras_file, _, keras_model = keras_ref.partition("::")
    torch_file, _, torch_model = torch_ref.partition("::")
    k = f"{keras_application(keras_file)}::{keras_model}"
    t = f"{torchvision_models / torch_file}::{torch_model}"
    result = portlint("compare", k, t)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode in (0, 1), result.stderr
    assert "Aligned layers:" in result.stdout and "Totals" in result.stdout
    report = json.loads(portlint("compare", k, t, "--format", "json").stdout)
    pair = report["pairs"][0]
    assert pair["totals"]["keras"] is not None and pair["totals"]["torch"] is not None
    matched = [row for row in pair["layers"] if row["status"] == "match"]
    assert len(matched) > 0.8 * len(pair["layers"])


def test_vgg16_ports_differ_only_where_they_really_do(torchvision_models):
    """Keras VGG16 and torchvision vgg16 have the same 138,357,544 trainable parameters
    and no error-level difference. What remains is real: torchvision's classifier has
    dropout, returns logits, and flattens NCHW maps. Its AdaptiveAvgPool2d((7, 7)) on a
    7x7 map is the identity and must not count as a missing layer."""
    k = f"{keras_application('vgg16.py')}::VGG16"
    t = f"{torchvision_models / 'vgg.py'}::vgg16"
    report = json.loads(portlint("compare", k, t, "--format", "json").stdout)
    totals = report["pairs"][0]["totals"]
    assert totals["keras"]["trainable"] == totals["torch"]["parameters"] == 138_357_544
    errors = [f["message"] for f in report["findings"] if f["severity"] == "error"]
    assert errors == []
    warnings = {(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "warning"}
    assert {rule for rule, _ in warnings} == {"missing-layer", "output-activation-mismatch",
                                              "flatten-layout-mismatch"}
    missing = sorted(message for rule, message in warnings if rule == "missing-layer")
    assert missing == ["Dropout `classifier.2` has no counterpart in Keras",
                       "Dropout `classifier.5` has no counterpart in Keras"]


def test_mobilenet_v2_real_differences_are_reported(torchvision_models):
    """Keras MobileNetV2 pads stride-2 convolutions asymmetrically (ZeroPadding2D from
    correct_pad) and uses BN momentum 0.999 / epsilon 1e-3; torchvision pads (1, 1) and
    keeps torch's BN defaults. Its ReLU6 is Keras's ReLU(6.0): not a difference."""
    k = f"{keras_application('mobilenet_v2.py')}::MobileNetV2"
    t = f"{torchvision_models / 'mobilenetv2.py'}::mobilenet_v2"
    report = json.loads(portlint("compare", k, t, "--format", "json").stdout)
    errors = {f["rule"] for f in report["findings"] if f["severity"] == "error"}
    assert errors == {"batchnorm-momentum-mismatch", "norm-epsilon-mismatch",
                      "same-padding-mismatch"}
