"""`portlint verify --numeric` and `--emit-mapping` on real TensorFlow/Keras and real torch.

The ports under test (written to a temporary folder):

* an image model: Conv2D 3x3 stride 2 'same' (no bias) -> BatchNormalization(momentum=0.9,
  epsilon=1e-3) -> ReLU -> Conv2D(activation='relu') -> Flatten -> Dense. The correct port
  pads like TF (`F.pad(x, (0, 1, 0, 1))`, then padding=0), converts the BN momentum
  (0.9 -> 0.1) and copies eps, and flattens NCHW: the weight transfer permutes the Dense
  kernel (the flatten permutation);
* a sequence model: GRU(return_sequences=True) -> LSTM -> Dense, ported as batch-first
  nn.GRU/nn.LSTM (GRU gate blocks reordered, the LSTM bias split by the transfer);
* the image port with one bug at a time, and the seed pair of the founding question.

Every `portlint verify` run is started at once by a module fixture (a few workers in
parallel) to keep the module under ~90 s; the in-process tests import the frameworks.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support import SEED_KERAS, SEED_TORCH, portlint

pytestmark = pytest.mark.slow  # verify builds real TensorFlow/Keras and torch models

ATOL, RTOL = 1e-5, 1e-4

KERAS_IMAGE = """
import keras
from keras import layers


def build_model():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, x)
"""
TORCH_IMAGE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, bias=False)
        self.stem_bn = nn.BatchNorm2d(8, momentum=0.1, eps=1e-3)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(8, 16, 3, padding=1)
        self.logits = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.pad(x, (0, 1, 0, 1))  # TF 'same' with stride 2 on an even size: (0, 1)
        x = self.relu(self.stem_bn(self.stem(x)))
        x = F.relu(self.conv(x))
        x = torch.flatten(x, 1)  # (C, H, W) order: the weight transfer permutes `logits`
        return self.logits(x)
"""
# One bug at a time: (text of the correct port, replacement).
BUGS = {
    # torch's default eps=1e-5 instead of Keras's 1e-3.
    "epsilon": ("nn.BatchNorm2d(8, momentum=0.1, eps=1e-3)", "nn.BatchNorm2d(8, momentum=0.1)"),
    # padding=1 (symmetric) instead of TF's (0, 1) for 'same' with stride 2 on 8x8.
    "padding": ("nn.Conv2d(3, 8, 3, stride=2, bias=False)",
                "nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)"),
    # the ReLU after the batch norm left out.
    "relu": ("x = self.relu(self.stem_bn(self.stem(x)))", "x = self.stem_bn(self.stem(x))"),
    # The flatten permutation, as it goes wrong in a port that wants Keras's (H, W, C)
    # order so that copied Dense weights need no permutation: `x.transpose(1, 3)` moves
    # the channels last but also swaps H and W, giving (W, H, C). The shapes agree (H ==
    # W), the static analysis sees a channels-last flatten (no finding, no permutation in
    # the transfer), and only the dynamic check shows `logits` computing something else.
    "flatten": ("x = torch.flatten(x, 1)  # (C, H, W) order: the weight transfer permutes `logits`",
                "x = x.transpose(1, 3).flatten(1)  # meant (H, W, C): gives (W, H, C)"),
}
PAD_LINE = "x = F.pad(x, (0, 1, 0, 1))  # TF 'same' with stride 2 on an even size: (0, 1)"

KERAS_SEQUENCE = """
import keras
from keras import layers


def build_model():
    inputs = keras.Input(shape=(12, 6))
    x = layers.GRU(16, return_sequences=True)(inputs)
    x = layers.LSTM(8)(x)
    x = layers.Dense(3)(x)
    return keras.Model(inputs, x)
"""
TORCH_SEQUENCE = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 16, batch_first=True)
        self.lstm = nn.LSTM(16, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x, _ = self.gru(x)
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])
"""


def _port_with(bug: str) -> str:
    old, new = BUGS[bug]
    assert old in TORCH_IMAGE
    text = TORCH_IMAGE.replace(old, new)
    if bug == "padding":
        text = text.replace(f"        {PAD_LINE}\n", "")
    return text


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Every `portlint verify` run of this module, started together (2 at a time)."""
    folder = tmp_path_factory.mktemp("numeric")
    _write(folder, "k_image.py", KERAS_IMAGE)
    _write(folder, "t_image.py", TORCH_IMAGE)
    _write(folder, "k_seq.py", KERAS_SEQUENCE)
    _write(folder, "t_seq.py", TORCH_SEQUENCE)
    for bug in ("relu", "flatten"):
        _write(folder, f"t_{bug}.py", _port_with(bug))
    json_args = ("--numeric", "--format", "json", "--ignore", "flatten-layout-mismatch")
    commands = {
        "image": ("verify", "k_image.py", "t_image.py", *json_args,
                  "--emit-mapping", "map_image.py"),
        "sequence": ("verify", "k_seq.py", "t_seq.py", *json_args,
                     "--emit-mapping", "map_seq.py"),
        "flatten": ("verify", "k_image.py", "t_flatten.py", *json_args),
        "relu": ("verify", "k_image.py", "t_relu.py", "--numeric"),  # the text report
        "seed": ("verify", SEED_KERAS, SEED_TORCH, "--numeric", "--format", "json"),
    }
    order = ["seed", *[name for name in commands if name != "seed"]]  # the longest first
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(portlint, *commands[name], cwd=folder) for name in order}
        _frameworks()  # meanwhile, for the in-process tests
        results = {name: future.result() for name, future in futures.items()}
    results["folder"] = folder
    return results


def _numeric(result: subprocess.CompletedProcess) -> dict:
    shown = f"rc={result.returncode}\nstderr={result.stderr[-3000:]}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    document = json.loads(result.stdout)
    [pair] = document["pairs"]
    assert "dynamic" in pair, shown
    return pair["numeric"]


def _layers(numeric: dict) -> dict:
    return {(c["keras"], c["torch"]): c for c in numeric["layers"]}


# --------------------------------------------------------------------------- correct ports


def test_correct_image_port_is_equivalent(runs):
    """Conv 'same' stride 2 (TF padding emulated), BN with converted momentum and copied
    eps, ReLU, a fused Keras relu vs F.relu, and the flatten permutation done by the
    weight transfer: every compared layer and the output agree within 1e-5."""
    result = runs["image"]
    numeric = _numeric(result)
    assert result.returncode == 0, result.stdout[-3000:]
    assert numeric["equivalent"] is True
    assert numeric["first_divergence"] is None
    assert numeric["unmapped"] == [] and numeric["transferred"] == 4
    assert 0 <= numeric["max_abs_error"] < ATOL
    layers = _layers(numeric)
    assert set(layers) == {("stem", "stem"), ("stem_bn", "stem_bn"), ("stem_relu", "relu"),
                           ("conv", "conv"), ("logits", "logits")}
    for layer in layers.values():
        assert layer["status"] == "agrees", layer
        assert layer["max_abs_error"] < ATOL, layer
    assert numeric["input"] == {"keras": [2, 8, 8, 3], "torch": [2, 3, 8, 8], "dtype": "float"}
    assert numeric["tolerance"] == {"atol": ATOL, "rtol": RTOL}


def test_correct_recurrent_port_is_equivalent(runs):
    """GRU (gate blocks z, r, h vs r, z, n; two bias rows) and LSTM (one Keras bias vs
    bias_ih + bias_hh), batch first, last hidden state vs Keras return_sequences=False."""
    result = runs["sequence"]
    numeric = _numeric(result)
    assert result.returncode == 0, result.stdout[-3000:]
    assert numeric["equivalent"] is True, numeric
    assert numeric["max_abs_error"] < ATOL
    layers = _layers(numeric)
    assert set(layers) == {("gru", "gru"), ("lstm", "lstm"), ("dense", "head")}
    assert all(c["status"] == "agrees" and c["max_abs_error"] < ATOL for c in layers.values())


# --------------------------------------------------------------------------- one bug at a time


@pytest.mark.parametrize("bug, keras, torch, static", [
    ("epsilon", "stem_bn", "stem_bn", "PTL102 norm-epsilon-mismatch"),
    ("padding", "stem", "stem", "PTL301 same-padding-mismatch"),
    ("relu", "conv", "conv", "PTL401 activation-mismatch"),  # the layer after the ReLU
    ("flatten", "logits", "logits", None),
])
def test_one_bug_fails_at_its_layer(tmp_path, bug, keras, torch, static):
    """In this process (the worker's numeric step on models built here): each bug makes
    the first divergent layer the one it is in (the missing ReLU: the next compared
    layer, with the ReLU named as the unmatched row in between)."""
    result, _ = _in_process(tmp_path, KERAS_IMAGE, _port_with(bug))
    assert result["equivalent"] is False
    first = result["first_divergence"]
    assert (first["keras"], first["torch"]) == (keras, torch), first
    assert first["max_abs_error"] > ATOL and first["max_rel_error"] > 0
    layers = [(c["keras"], c["torch"]) for c in result["layers"]]
    position = layers.index((keras, torch))
    assert all(c["status"] == "agrees" for c in result["layers"][:position]), result["layers"]
    assert result["max_abs_error"] > ATOL
    if static:
        assert any(text.startswith(static) for text in first["static_findings"]), first
    if bug == "relu":
        assert first["unmatched_rows"] == ["Keras-only ReLU `stem_relu`"]
    if bug == "flatten":
        assert first["static_findings"] == []
        assert any("transpose" in row for row in first["unmatched_rows"]), first


def test_flatten_bug_fails_the_run_by_itself(runs):
    """`portlint verify --numeric` on the flatten bug: the static analysis is silent (H ==
    W, a channels-last flatten: no warning, no permutation in the transfer), so exit code
    1 comes from the numeric check alone."""
    result = runs["flatten"]
    numeric = _numeric(result)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert not [f for f in document["findings"] if f["severity"] in ("warning", "error")]
    assert numeric["equivalent"] is False
    first = numeric["first_divergence"]
    assert (first["keras"], first["torch"]) == ("logits", "logits")
    assert set(first) >= {"keras", "torch", "max_abs_error", "max_rel_error"}
    assert isinstance(numeric["max_abs_error"], float) and numeric["max_abs_error"] > 0.01


def test_missing_relu_fails_at_the_next_layer(runs):
    """The text report: the first divergent layer is the conv after the missing ReLU;
    the row without counterpart and the static finding are named."""
    result = runs["relu"]
    assert result.returncode == 1, result.stderr[-2000:]
    text = result.stdout
    section = text[text.index("Numeric check"):]
    assert "stem_bn / stem_bn" in section and "conv / conv" in section
    assert "First divergence: Keras `conv` / PyTorch `conv`" in section
    assert "Unmatched since the last agreeing layer: Keras-only ReLU `stem_relu`" in section
    assert "PTL401 activation-mismatch" in section
    assert "NOT equivalent" in section
    rows = {line.split()[0]: line for line in section.splitlines()[2:]
            if " / " in line and "max abs" in line}
    assert rows["stem_bn"].rstrip().endswith("ok")
    assert rows["conv"].rstrip().endswith("DIFFERS")


def test_seed_pair_is_not_equivalent(runs):
    """The founding question's port: eps 1e-5 vs Keras's 1e-3 diverges first (the
    missing relu and softmax follow)."""
    result = runs["seed"]
    numeric = _numeric(result)
    assert result.returncode == 1
    assert numeric["equivalent"] is False
    first = numeric["first_divergence"]
    assert (first["keras"], first["torch"]) == ("batch_normalization", "layer1.2"), first
    assert first["max_abs_error"] > 1e-3
    assert any(t.startswith("PTL102 norm-epsilon-mismatch") for t in first["static_findings"])
    layers = _layers(numeric)
    assert layers[("conv2d", "layer1.0")]["status"] == "agrees"  # compared after the ReLU
    assert layers[("dense", "fc1")]["status"] == "diverges"
    assert "no activation" in layers[("dense", "fc1")]["note"]
    assert numeric["max_abs_error"] > 0.1
    assert numeric["input"]["torch"] == [2, 1, 64, 64]


# --------------------------------------------------------------------------- --emit-mapping


def _frameworks():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import torch

    return keras, np, torch


def _exec_model(source: str, name: str):
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]()


def _randomise_keras(model, np, keras) -> None:
    """Non-default values everywhere, so that a bias or statistic copied wrongly shows."""
    rng = np.random.default_rng(1)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if variable.path.endswith("moving_variance"):
            variable.assign(rng.uniform(0.2, 1.5, shape).astype("float32"))
        else:
            value = np.array(variable.numpy())
            variable.assign((value + rng.normal(0, 0.2, shape)).astype("float32"))


def _outputs(keras_model, torch_model, shape, np, torch, channels_first: bool):
    x = np.random.default_rng(2).standard_normal((2, *shape)).astype("float32")
    xt = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if channels_first else x
    torch_model.eval()
    with torch.no_grad():
        y_torch = torch_model(torch.from_numpy(xt)).numpy()
    return np.asarray(keras_model(x, training=False)), y_torch


def _load_script(path: Path):
    spec = importlib.util.spec_from_file_location(f"emitted_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, keras_src, torch_src, shape, channels_first, needle", [
    ("image", KERAS_IMAGE, TORCH_IMAGE, (8, 8, 3), True, "flatten_to_torch("),
    ("sequence", KERAS_SEQUENCE, TORCH_SEQUENCE, (12, 6), False, "gru_gates("),
])
def test_emitted_mapping_makes_fresh_models_equivalent(runs, name, keras_src, torch_src,
                                                       shape, channels_first, needle):
    path = runs["folder"] / f"map_{'image' if name == 'image' else 'seq'}.py"
    text = path.read_text(encoding="utf-8")
    # Standalone: imports keras, numpy, torch and the standard library only.
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(text))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])}
    assert imported <= {"importlib", "sys", "pathlib", "keras", "numpy", "torch"}, imported
    assert "def keras_to_torch(keras_model, torch_model):" in text
    assert "def torch_to_keras(torch_model, keras_model):" in text
    assert needle in text and "NOT MAPPED" not in text
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".portlint-tmp")]

    keras, np, torch = _frameworks()
    module = _load_script(path)
    # Keras -> torch on freshly built models (their own code, not the script's builders).
    keras.backend.clear_session()
    k_model, t_model = _exec_model(keras_src, "build_model"), _exec_model(torch_src, "Net")
    _randomise_keras(k_model, np, keras)
    module.keras_to_torch(k_model, t_model)
    y_keras, y_torch = _outputs(k_model, t_model, shape, np, torch, channels_first)
    np.testing.assert_allclose(y_torch, y_keras, atol=ATOL, rtol=RTOL)
    # torch -> Keras on another fresh pair.
    keras.backend.clear_session()
    k_model, t_model = _exec_model(keras_src, "build_model"), _exec_model(torch_src, "Net")
    with torch.no_grad():
        for buffer_name, buffer in t_model.named_buffers():
            if buffer_name.endswith("running_var"):
                buffer.uniform_(0.2, 1.5)
            elif buffer_name.endswith("running_mean"):
                buffer.normal_(0, 0.3)
    module.torch_to_keras(t_model, k_model)
    y_keras, y_torch = _outputs(k_model, t_model, shape, np, torch, channels_first)
    np.testing.assert_allclose(y_keras, y_torch, atol=ATOL, rtol=RTOL)
    # The script's own check (its builders, the transfer, a random batch).
    keras.backend.clear_session()
    assert module.check() < ATOL


def test_emit_mapping_into_a_missing_folder_is_a_usage_error(tmp_path):
    result = portlint("verify", SEED_KERAS, SEED_TORCH, "--emit-mapping",
                       tmp_path / "missing" / "map.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("portlint: --emit-mapping ") and "does not exist" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# --------------------------------------------------------------------------- in process


MISC_KERAS = """
import keras
from keras import layers


def build_model():
    inputs = keras.Input(shape=(10,), dtype="int32")
    x = layers.Embedding(50, 8)(inputs)
    x = layers.Conv1D(12, 3, padding="same")(x)
    x = layers.LayerNormalization(epsilon=1e-5)(x)
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True))(x)
    x = layers.SimpleRNN(5)(x)
    x = layers.Dense(4)(x)
    return keras.Model(inputs, x)
"""
MISC_TORCH = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.conv = nn.Conv1d(8, 12, 3, padding=1)
        self.norm = nn.LayerNorm(12)
        self.gru = nn.GRU(12, 6, batch_first=True, bidirectional=True)
        self.rnn = nn.RNN(12, 5, batch_first=True)
        self.fc = nn.Linear(5, 4)

    def forward(self, x):
        x = self.emb(x)
        x = self.conv(x.transpose(1, 2)).transpose(1, 2)
        x = self.norm(x)
        x, _ = self.gru(x)
        x, _ = self.rnn(x)
        return self.fc(x[:, -1])
"""
GROUPED_KERAS = """
import keras
from keras import layers


def build_model():
    inputs = keras.Input(shape=(9, 9, 4))
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(inputs)
    x = layers.SeparableConv2D(6, 3, padding="same")(x)
    x = layers.GroupNormalization(groups=2, epsilon=1e-5)(x)
    x = layers.BatchNormalization(center=False, epsilon=1e-5)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, x)
"""
GROUPED_TORCH = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 8, 3, padding=1, groups=4)
        self.sep_dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.sep_pw = nn.Conv2d(8, 6, 1)
        self.gn = nn.GroupNorm(2, 6)
        self.bn = nn.BatchNorm2d(6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = self.sep_pw(self.sep_dw(self.dw(x)))
        x = self.bn(self.gn(x))
        x = self.pool(x).flatten(1)
        return torch.softmax(self.fc(x), dim=1)
"""


def _in_process(tmp_path: Path, keras_src: str, torch_src: str, *, origin: str = "keras"):
    """compare -> numeric request -> the worker's numeric step, in this process."""
    keras, np, torch = _frameworks()
    from portlint.compare import compare
    from portlint.dynamic import numeric, plan

    k_path, t_path = _write(tmp_path, "k.py", keras_src), _write(tmp_path, "t.py", torch_src)
    refs = (k_path, t_path) if origin == "keras" else (t_path, k_path)
    pair = compare(str(refs[0]), str(refs[1]))
    params = plan.numeric_request(pair.alignment, pair.origin_framework)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    k_model, t_model = _exec_model(keras_src, "build_model"), _exec_model(torch_src, "Net")
    answer = numeric.NumericRun(params, keras, torch, np, k_model, t_model).run()
    return plan.interpret(pair.alignment, pair.findings, params, answer), answer


@pytest.mark.parametrize("origin", ["keras", "torch"])
def test_conversions_both_directions(tmp_path, origin):
    """Embedding, Conv1D (on a transposed sequence), LayerNorm, bidirectional GRU, SimpleRNN
    (bias_hh), Dense; origin Keras and origin torch."""
    result, answer = _in_process(tmp_path, MISC_KERAS, MISC_TORCH, origin=origin)
    assert result["equivalent"] is True, result
    assert result["input"]["dtype"] == "int" and result["input"]["high"] == 50
    assert result["transferred"] == 6
    assert all(c["status"] == "agrees" for c in result["layers"]), result["layers"]
    statements = [s for m in answer["mapping"] for s in m["statements"][answer["direction"]]]
    assert any("_reverse" in s for s in statements)  # the backward direction
    if origin == "keras":
        assert "put(T('rnn').bias_hh_l0, 0.0)" in statements
    else:
        assert "put(K('simple_rnn').cell.bias, arr(T('rnn').bias_ih_l0) + arr(T('rnn').bias_hh_l0))" \
            in statements


UNFLATTEN_KERAS = """
import keras
from keras import layers


def build_model():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(128, activation="relu")(inputs)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2D(4, 3)(x)
    return keras.Model(inputs, x)
"""
UNFLATTEN_TORCH = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 128)
        self.conv = nn.Conv2d(8, 4, 3)

    def forward(self, x):
        return self.conv(torch.relu(self.fc(x)).view(-1, 8, 4, 4))
"""


@pytest.mark.parametrize("origin", ["keras", "torch"])
def test_unflatten_permutes_the_dense_outputs(tmp_path, origin):
    """Dense -> Reshape((4, 4, 8)) -> Conv2D ported as Linear -> view(-1, 8, 4, 4): the
    mirror image of the flatten permutation (reshape-layout-mismatch), both directions;
    the Dense output is compared in Keras's (H, W, C) order; the final output is NHWC vs
    NCHW."""
    result, answer = _in_process(tmp_path, UNFLATTEN_KERAS, UNFLATTEN_TORCH, origin=origin)
    assert result["equivalent"] is True, result
    assert [c["status"] for c in result["layers"]] == ["agrees", "agrees"]
    statements = [s for m in answer["mapping"] for s in m["statements"][answer["direction"]]]
    helper = "unflatten_to_torch(" if origin == "keras" else "unflatten_to_keras("
    assert sum(helper in s for s in statements) == 2  # kernel and bias


def test_depthwise_separable_and_norms(tmp_path):
    """DepthwiseConv2D (depth multiplier 2) vs a grouped Conv2d, SeparableConv2D vs two
    convs, GroupNorm, BN with center=False vs affine (the torch bias set to 0), global
    pooling vs adaptive pooling + flatten, a fused softmax vs torch.softmax."""
    result, answer = _in_process(tmp_path, GROUPED_KERAS, GROUPED_TORCH)
    assert result["equivalent"] is True, result
    assert result["max_abs_error"] < ATOL
    compared = {(c["keras"], c["torch"]) for c in result["layers"]}
    assert ("separable_conv2d", "sep_pw") in compared
    statements = [s for m in answer["mapping"] for s in m["statements"]["keras_to_torch"]]
    assert any("depthwise_to_torch(" in s for s in statements)
    assert any(s.startswith("put(T('bn').bias, 0.0)") for s in statements)


def test_unmappable_layers_are_reported_and_not_compared(tmp_path):
    """torch -> Keras: the torch BN's learned shift has nowhere to go in a Keras BN with
    center=False; a layer without counterpart likewise. Nothing is compared."""
    result, _ = _in_process(tmp_path, GROUPED_KERAS, GROUPED_TORCH, origin="torch")
    assert result["equivalent"] is False
    assert result["layers"] == [] and result["first_divergence"] is None
    [unmapped] = result["unmapped"]
    assert unmapped["torch"] == "bn" and "shift (beta)" in unmapped["reason"]
    assert "could not be transferred" in result["reason"]

    extra = MISC_TORCH.replace("self.fc = nn.Linear(5, 4)",
                               "self.fc = nn.Linear(5, 4)\n        self.out = nn.Linear(4, 4)")
    extra = extra.replace("return self.fc(x[:, -1])", "return self.out(self.fc(x[:, -1]))")
    result, _ = _in_process(tmp_path, MISC_KERAS, extra)
    assert result["equivalent"] is False and result["layers"] == []
    assert any(u["torch"] == "fc" and "no counterpart" in u["reason"] for u in result["unmapped"])
