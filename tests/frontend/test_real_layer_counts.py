"""Layers beyond the seed (recurrent, embedding, transposed convolution, upsampling, PReLU,
instance/RMS normalization): static counts and output shapes equal what real Keras and
real torch build. One small model per case, built by both the static front end and the
framework itself."""

from __future__ import annotations

import os
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from portlint.frontend import ModelRef, extract  # noqa: E402
from portlint.shapes import infer  # noqa: E402

from test_real_code_constructs import load  # noqa: E402

pytestmark = pytest.mark.slow  # builds real TensorFlow/Keras and torch models

KERAS_CASES = {
    "lstm": ("(20, 8)", "layers.LSTM(16)"),
    "lstm-sequences-no-bias": ("(20, 8)", "layers.LSTM(16, return_sequences=True, use_bias=False)"),
    "gru-reset-after": ("(20, 8)", "layers.GRU(12, return_sequences=True)"),
    "gru-reset-before": ("(20, 8)", "layers.GRU(12, reset_after=False)"),
    "simple-rnn": ("(20, 8)", "layers.SimpleRNN(10)"),
    "bidirectional-lstm": ("(20, 8)", "layers.Bidirectional(layers.LSTM(16, return_sequences=True))"),
    "bidirectional-gru-sum": ("(20, 8)", "layers.Bidirectional(layers.GRU(6), merge_mode='sum')"),
    "embedding": ("(12,)", "layers.Embedding(1000, 32)"),
    "conv2d-transpose-same": ("(7, 9, 3)", "layers.Conv2DTranspose(8, 3, strides=2, padding='same')"),
    "conv2d-transpose-valid": ("(7, 9, 3)", "layers.Conv2DTranspose(8, 2, strides=3)"),
    "conv2d-transpose-output-padding": ("(7, 9, 3)",
                                        "layers.Conv2DTranspose(8, 3, strides=2, padding='same', output_padding=1)"),
    "upsampling2d": ("(5, 6, 3)", "layers.UpSampling2D((2, 3))"),
    "prelu-per-element": ("(6, 6, 4)", "layers.PReLU()"),
    "prelu-shared": ("(6, 6, 4)", "layers.PReLU(shared_axes=[1, 2])"),
    "rms-normalization": ("(10, 24)", "layers.RMSNormalization()"),
    "instance-norm-as-group-norm": ("(6, 6, 4)", "layers.GroupNormalization(groups=-1)"),
    "spatial-dropout": ("(6, 6, 4)", "layers.SpatialDropout2D(0.2)"),
}

TORCH_CASES = {
    "lstm": ("(20, 8)", "nn.LSTM(8, 16, batch_first=True)"),
    "lstm-stacked-bidirectional": ("(20, 8)", "nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)"),
    "lstm-no-bias": ("(20, 8)", "nn.LSTM(8, 16, bias=False, batch_first=True)"),
    "gru": ("(20, 8)", "nn.GRU(8, 12, batch_first=True)"),
    "rnn-relu": ("(20, 8)", "nn.RNN(8, 10, nonlinearity='relu', batch_first=True)"),
    "embedding": ("(12,)", "nn.Embedding(1000, 32, padding_idx=0)"),
    "conv-transpose": ("(3, 7, 9)", "nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)"),
    "conv-transpose-groups": ("(4, 7, 9)", "nn.ConvTranspose2d(4, 8, 4, stride=2, groups=2)"),
    "upsample": ("(3, 5, 6)", "nn.Upsample(scale_factor=2, mode='bilinear')"),
    "prelu-channels": ("(4, 6, 6)", "nn.PReLU(4)"),
    "instance-norm": ("(4, 6, 6)", "nn.InstanceNorm2d(4)"),
    "instance-norm-affine-tracked": ("(4, 6, 6)", "nn.InstanceNorm2d(4, affine=True, track_running_stats=True)"),
    "rms-norm": ("(10, 24)", "nn.RMSNorm(24)"),
    "dropout2d": ("(4, 6, 6)", "nn.Dropout2d(0.2)"),
}


def _static(path, input_shape=None):
    graph = extract(ModelRef.parse(str(path)), input_shape=input_shape)
    infer(graph, input_shape)
    assert graph.counts_known(), [n.name for n in graph.nodes if n.counts is None]
    return graph


@pytest.mark.parametrize("name", sorted(KERAS_CASES))
def test_keras_layer_counts_and_shape_are_real(name, tmp_path):
    shape, layer = KERAS_CASES[name]
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(f"""
        import keras
        from keras import layers

        def build():
            inputs = keras.Input(shape={shape})
            x = {layer}(inputs)
            return keras.Model(inputs, x)
    """))
    graph = _static(path)
    counts = graph.total_counts()
    model = load(path).build()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert (counts.trainable, counts.state) == (trainable, non_trainable)
    out = graph.nodes[graph.outputs[0]].out_shape
    assert out == tuple(model.output.shape[1:])


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_torch_layer_counts_and_shape_are_real(name, tmp_path):
    shape, module = TORCH_CASES[name]
    recurrent = module.startswith(("nn.LSTM", "nn.GRU", "nn.RNN"))
    call = "x, _ = self.layer(x)" if recurrent else "x = self.layer(x)"
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(f"""
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = {module}

            def forward(self, x):
                {call}
                return x
    """))
    dims = eval(shape)  # noqa: S307 - a literal from this file
    graph = _static(path, dims)
    counts = graph.total_counts()
    model = load(path).Net()
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    assert (counts.trainable, counts.state + counts.torch_extra_buffers) == (parameters, buffers)
    sample = torch.randint(0, 10, (2, *dims)) if "embedding" in name else torch.randn(2, *dims)
    with torch.no_grad():
        out = model(sample)
    if recurrent:
        out = out[0] if isinstance(out, tuple) else out
    layer = next(n for n in graph.nodes if n.op not in ("input", "rnn_state", "index"))
    assert layer.out_shape == tuple(out.shape[1:])


def test_lstm_folded_bias_reconciles_keras_and_torch():
    """Keras LSTM(16) on 8 features: 1,600; torch nn.LSTM(8, 16): 1,664, of which 64 are
    bias_hh, which Keras folds into its one bias (reference §10, E05)."""
    keras_lstm = keras.layers.LSTM(16)
    keras_lstm.build((None, 20, 8))
    torch_lstm = torch.nn.LSTM(8, 16)
    assert keras_lstm.count_params() == 1600
    assert sum(p.numel() for p in torch_lstm.parameters()) == 1664
    assert torch_lstm.bias_hh_l0.numel() == 64
