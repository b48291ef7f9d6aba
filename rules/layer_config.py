"""Plain layer configuration: settings that differ between aligned layers (PTL501) and
embedding padding/masking semantics (PTL504)."""

from __future__ import annotations

from typing import Iterable

from portlint.findings import Finding
from portlint.ir import CHANNELS_FIRST, KERAS, Node, is_known
from portlint.knowledge import source_param
from portlint.knowledge.ops import Op
from portlint.layout import channels
from portlint.rule import FRAMEWORK_LABEL, Case, PairContext, Rule, fmt

# Canonical attributes compared as plain values, per op.
CONFIG_ATTRS: dict[str, tuple[str, ...]] = {
    Op.CONV: ("filters", "kernel", "stride", "dilation", "groups", "bias"),
    Op.CONV_TRANSPOSE: ("filters", "kernel", "stride", "dilation", "groups", "bias"),
    Op.RNN: ("cell", "units", "bias", "bidirectional"),
    Op.EMBEDDING: ("num_embeddings", "embedding_dim"),
    Op.ATTENTION: ("num_heads", "embed_dim", "batch_first", "bias"),
    Op.UPSAMPLE: ("scale", "mode", "align_corners"),
    Op.DENSE: ("units", "bias"),
    Op.DROPOUT: ("rate", "variant"),
    Op.POOL: ("kind", "pool", "stride"),
    Op.GLOBAL_POOL: ("kind",),
    Op.ADAPTIVE_POOL: ("kind",),
}

KERAS_MLP = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense({units}, use_bias={bias})(inputs)
    x = layers.Dropout({rate})(x)
    x = layers.Dense(4)(x)
    return keras.Model(inputs, x)
"""
TORCH_MLP = """
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(16, {units}, bias={bias}),
    nn.Dropout({rate}),
    nn.Linear({units}, 4),
)
"""

KERAS_ATTENTION = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(10, 16))
    x = layers.MultiHeadAttention(num_heads=4, key_dim=4)(inputs, inputs)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(2)(x)
    return keras.Model(inputs, x)
"""
TORCH_ATTENTION = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention({args})
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        x, _ = self.attn(x, x, x)
        return self.fc(x.mean(1))
"""
KERAS_UPSAMPLE = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.UpSampling2D(interpolation="bilinear")(x)
    x = layers.Conv2D(1, 1)(x)
    return keras.Model(inputs, x)
"""
TORCH_UPSAMPLE = """
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1),
    nn.Upsample({args}),
    nn.Conv2d(8, 1, 1),
)
"""
TORCH_INTERPOLATE = """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        x = self.conv1(x)
        x = F.interpolate(x, scale_factor=2, mode="bilinear")
        return self.conv2(x)
"""
KERAS_SPATIAL_DROPOUT = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3, activation="relu")(inputs)
    x = layers.SpatialDropout2D(0.2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(10)(x)
    return keras.Model(inputs, x)
"""
TORCH_SPATIAL_DROPOUT = """
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3),
    nn.ReLU(),
    nn.{dropout}(0.2),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(16, 10),
)
"""
KERAS_EMBEDDING = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(12,), dtype="int32")
    x = layers.Embedding(1000, 32)(inputs)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(2)(x)
    return keras.Model(inputs, x)
"""
TORCH_EMBEDDING = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, {dim})
        self.fc = nn.Linear({dim}, 2)

    def forward(self, ids):
        return self.fc(self.embed(ids).mean(dim=1))
"""


KERAS_DEPTHWISE = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(16, 16, 8))
    return keras.Model(inputs, layers.DepthwiseConv2D(3, padding="same")(inputs))
"""
TORCH_DEPTHWISE = """
import torch.nn as nn

model = nn.Sequential(nn.Conv2d({args}))
"""


class LayerConfigMismatch(Rule):
    code = "PTL501"
    name = "layer-config-mismatch"
    severity = "error"
    summary = ("Plain layer configuration differs: filters/units, kernel, stride, bias, recurrent "
               "cell, embedding size, attention heads and batch_first, upsampling mode, dropout "
               "rate and variant")
    doc = """
## What it flags
Aligned layers whose plain configuration differs once both sides are in canonical terms:
- Conv and transposed conv: `filters` vs `out_channels`, `kernel_size`, `strides`/`stride`,
  `dilation_rate`/`dilation`, `groups`, `use_bias`/`bias`.
- Keras DepthwiseConv2D vs torch `Conv2d(groups=C)`: kernel, stride, dilation, bias, and
  `groups` equal to the input channels.
- Dense `units` vs Linear `out_features`, `use_bias`/`bias`.
- Recurrent layers: the cell (LSTM, GRU, SimpleRNN vs nn.RNN), `units` vs `hidden_size`,
  `use_bias`/`bias`, and bidirectional (Keras's `Bidirectional` wrapper vs
  `bidirectional=True`).
- Embedding `input_dim`/`output_dim` vs `num_embeddings`/`embedding_dim`.
- Attention: Keras MultiHeadAttention `num_heads` vs torch `num_heads`; its width (Keras
  projects back to the query's last dimension) vs `embed_dim`; `use_bias`/`bias`; and
  `batch_first`: Keras is always batch first, nn.MultiheadAttention defaults to
  `batch_first=False` and then reads `(N, T, E)` as `(T, N, E)`.
- Upsampling: the scale (`size` vs `scale_factor`), `interpolation` vs `mode`, and
  `align_corners`: Keras resizes with half-pixel centres, which is torch's
  `align_corners=False` (nn.UpsamplingBilinear2d is `align_corners=True`).
- Dropout: `rate` vs `p`, and the variant: Dropout and nn.Dropout drop single elements,
  SpatialDropout1D/2D/3D and nn.Dropout1d/2d/3d (`F.dropout2d`) whole channels,
  AlphaDropout and nn.AlphaDropout keep SELU's statistics; GaussianDropout (multiplicative
  noise) has no torch layer.
- Pooling kind, window and stride (Keras's default pooling stride is the pool size, as is
  torch's).

## Why it matters
A different configuration is a different model; often weight loading fails, sometimes (a
stride, a dropout rate or variant, `batch_first`, `align_corners`) nothing fails and the
numbers are just different: a batch-first tensor fed to a time-major attention attends
across the batch.

## Example
```python
# Keras
layers.Conv2D(64, 3, strides=2)
layers.Embedding(1000, 32)
layers.MultiHeadAttention(num_heads=4, key_dim=4)      # on (N, 10, 16)
layers.SpatialDropout2D(0.2)
# PyTorch port
nn.Conv2d(32, 64, 3)                  # stride 1
nn.Embedding(1000, 64)                # embedding_dim 64, not 32
nn.MultiheadAttention(16, 4)          # batch_first=False: attends over the batch axis
nn.Dropout(0.2)                       # drops elements, not channels
```

## Fix
Copy the value from the original: `nn.MultiheadAttention(16, 4, batch_first=True)`,
`nn.Dropout2d` for SpatialDropout2D, `nn.Upsample(scale_factor=2, mode="bilinear")` (or
`F.interpolate`) with `align_corners=False`, not nn.UpsamplingBilinear2d, for Keras's
bilinear UpSampling2D.

## References
- port-mismatches reference §3, §4, §8, §12
- https://pytorch.org/docs/stable/generated/torch.nn.MultiheadAttention.html (batch_first)
- https://pytorch.org/docs/stable/generated/torch.nn.Upsample.html (align_corners)
"""
    VALID = [
        Case(KERAS_MLP.format(units=8, bias=True, rate=0.5), TORCH_MLP.format(units=8, bias=True, rate=0.5), 0),
        Case(KERAS_MLP.format(units=8, bias=False, rate=0.2), TORCH_MLP.format(units=8, bias=False, rate=0.2), 0),
        Case(KERAS_ATTENTION,
             TORCH_ATTENTION.format(args="embed_dim=16, num_heads=4, batch_first=True"), 0,
             note="keyword arguments, batch_first=True: the Keras layout"),
        Case(KERAS_UPSAMPLE,
             TORCH_UPSAMPLE.format(args="scale_factor=2, mode='bilinear', align_corners=False"),
             0, note="half-pixel bilinear, as Keras"),
        Case(KERAS_UPSAMPLE, TORCH_INTERPOLATE, 0,
             note="functional F.interpolate instead of a module (align_corners defaults to False)"),
        Case(KERAS_SPATIAL_DROPOUT, TORCH_SPATIAL_DROPOUT.format(dropout="Dropout2d"), 0,
             note="channel dropout on both sides"),
        Case(KERAS_MLP.format(units=8, bias=True, rate=0.2),
             TORCH_MLP.format(units=8, bias=True, rate=0.2).replace("nn.Dropout(", "nn.Dropout2d("), 0,
             note="Dropout2d of an (N, C) input drops single elements, as Dropout does"),
        Case(KERAS_EMBEDDING, TORCH_EMBEDDING.format(dim=32), 0),
        Case(KERAS_DEPTHWISE, TORCH_DEPTHWISE.format(args="8, 8, kernel_size=3, padding=1, groups=8"), 0,
             note="DepthwiseConv2D as Conv2d(groups=in_channels)"),
    ]
    INVALID = [
        Case(KERAS_MLP.format(units=8, bias=True, rate=0.5), TORCH_MLP.format(units=8, bias=True, rate=0.2), 1,
             line=6, message="rate"),
        Case(KERAS_MLP.format(units=8, bias=False, rate=0.5), TORCH_MLP.format(units=8, bias=True, rate=0.5), 1,
             line=5, message="bias"),
        Case(KERAS_ATTENTION, TORCH_ATTENTION.format(args="16, 4"), 1, line=7,
             message="batch_first",
             note="torch's default batch_first=False on Keras-layout (N, T, E) data"),
        Case(KERAS_UPSAMPLE,
             TORCH_UPSAMPLE.format(args="scale_factor=2, mode='bilinear', align_corners=True"),
             1, line=6, message="align_corners"),
        Case(KERAS_SPATIAL_DROPOUT, TORCH_SPATIAL_DROPOUT.format(dropout="Dropout"), 1, line=7,
             message="variant='channels'", note="element dropout for SpatialDropout2D"),
        Case(KERAS_EMBEDDING, TORCH_EMBEDDING.format(dim=64), 1, line=7,
             message="embedding_dim=64"),
        Case(KERAS_DEPTHWISE, TORCH_DEPTHWISE.format(args="8, 8, 3, padding=1"), 1, line=4,
             message="groups=1", note="a full convolution where Keras has a depthwise one"),
        Case(KERAS_DEPTHWISE.replace("DepthwiseConv2D(3,", "DepthwiseConv2D(3, depth_multiplier=2,"),
             TORCH_DEPTHWISE.format(args="8, 8, 3, padding=1, groups=8"), 1, line=4,
             message="out_channels=8", note="depth_multiplier=2 needs out_channels=16"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(*CONFIG_ATTRS, Op.DEPTHWISE_CONV):
            compared = CONFIG_ATTRS.get(port.op) if port.op == origin.op else \
                CROSS_OP_ATTRS.get(frozenset({port.op, origin.op}))
            if compared is None:
                continue
            diffs = []
            diffs += _depthwise_as_conv(port, origin)
            for attr in compared:
                mine, theirs = port.attrs.get(attr), origin.attrs.get(attr)
                if mine is None or theirs is None or not (is_known(mine) and is_known(theirs)):
                    continue
                if mine != theirs:
                    diffs.append((attr, mine, theirs))
            if not diffs:
                continue
            label = FRAMEWORK_LABEL[ctx.origin]
            parts = [f"{_setting(port, a, m)} vs {label} {_setting(origin, a, t)}"
                     for a, m, t in diffs]
            yield self.finding(ctx, f"{port.layer_type} configuration differs: " + "; ".join(parts),
                               at=port, about=origin)


# Different ops for the same layer: Keras DepthwiseConv2D vs torch Conv2d(groups=C).
CROSS_OP_ATTRS: dict[frozenset[str], tuple[str, ...]] = {
    frozenset({Op.DEPTHWISE_CONV, Op.CONV}): ("kernel", "stride", "dilation", "bias"),
}


def _depthwise_as_conv(port: Node, origin: Node) -> list[tuple]:
    """A torch Conv2d aligned with a Keras depthwise convolution must have
    groups == in_channels and out_channels == in_channels * depth_multiplier."""
    pair = {port.op: port, origin.op: origin}
    conv, depthwise = pair.get(Op.CONV), pair.get(Op.DEPTHWISE_CONV)
    if conv is None or depthwise is None or conv.framework == depthwise.framework:
        return []
    cin = channels(conv.in_shape, CHANNELS_FIRST) if conv.in_shape else None
    multiplier = depthwise.attrs.get("depth_multiplier", 1)
    if not isinstance(cin, int) or not isinstance(multiplier, int):
        return []
    expected = {"groups": cin, "filters": cin * multiplier}
    diffs = []
    for attr, want in expected.items():
        have = conv.attrs.get(attr)
        if isinstance(have, int) and have != want:
            diffs.append((attr, have, want) if conv is port else (attr, want, have))
    return diffs


# Canonical attributes that some layers have no argument for: where the value comes from.
IMPLIED_BY = {"embed_dim": "the query's last dimension"}


def _setting(node: Node, canonical: str, value: object) -> str:
    """`param=value`, saying where the value comes from when no argument holds it
    (Keras UpSampling2D's align_corners, the dropout variant of a layer class)."""
    param = source_param(node.framework, node.layer_type, canonical)
    if param is not None:
        return f"{param}={fmt(value)}"
    origin = IMPLIED_BY.get(canonical, node.layer_type)
    return f"{canonical}={fmt(value)} (from {origin})"


KERAS_EMBED = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(12,), dtype="int32")
    x = layers.Embedding(1000, 32{args})(inputs)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(2)(x))
"""
TORCH_EMBED = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding({args})
        self.head = nn.Linear(32, 2)

    def forward(self, ids):
        return self.head(self.embed(ids).mean(1))
"""


class EmbeddingPaddingMismatch(Rule):
    code = "PTL504"
    name = "embedding-padding-mismatch"
    severity = "warning"
    summary = "Keras mask_zero and torch padding_idx are different features"
    doc = """
## What it flags
An aligned Keras `Embedding` and torch `nn.Embedding` where either side treats token 0
specially: Keras `mask_zero=True` or torch `padding_idx` set. They look alike and are not:
- Keras `mask_zero=True` leaves row 0 a trained vector and **propagates a mask** to
  mask-aware layers (RNNs skip the padded steps, losses and pooling ignore them);
- torch `padding_idx=0` zero-initialises row 0 and **blocks its gradient**, and
  propagates no mask (RNNs need `pack_padded_sequence`, pooling needs an explicit mask).

## Why it matters
Padded sequences give different outputs (an RNN runs over the padding in torch and skips
it in Keras; a mean over time includes it), and row 0 trains differently (reference §9,
experiment E08: Keras row 0 nonzero, torch row 0 zero).

## Example
```python
# Keras
x = layers.Embedding(1000, 32, mask_zero=True)(ids)
# PyTorch port
self.embed = nn.Embedding(1000, 32, padding_idx=0)   # no mask downstream
```

## Fix
Keep the features explicit: in torch, build the mask (`ids != 0`) and use it where Keras
consumed it (`pack_padded_sequence`, masked mean); in Keras, mask and zero the row if
the torch original relies on `padding_idx`. No automatic fix.

## References
- https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html (padding_idx)
- https://keras.io/api/layers/core_layers/embedding/ (mask_zero)
- port-mismatches reference §9
"""
    VALID = [
        Case(KERAS_EMBED.format(args=""), TORCH_EMBED.format(args="1000, 32"), 0),
        Case(KERAS_EMBED.format(args=", mask_zero=False"),
             TORCH_EMBED.format(args="num_embeddings=1000, embedding_dim=32, padding_idx=None"), 0,
             note="defaults spelled out"),
    ]
    INVALID = [
        Case(KERAS_EMBED.format(args=", mask_zero=True"), TORCH_EMBED.format(args="1000, 32, padding_idx=0"),
             1, line=7, message="mask"),
        Case(KERAS_EMBED.format(args=""), TORCH_EMBED.format(args="1000, 32, padding_idx=0"),
             1, line=7, message="padding_idx=0"),
        Case(KERAS_EMBED.format(args=", mask_zero=True"), TORCH_EMBED.format(args="1000, 32"),
             1, line=7, message="mask_zero=True"),
    ]

    def check(self, ctx: PairContext) -> Iterable[Finding]:
        for port, origin, _ in ctx.matched(Op.EMBEDDING):
            if origin.op != Op.EMBEDDING:
                continue
            keras, torch = (port, origin) if port.framework == KERAS else (origin, port)
            masked = keras.attrs.get("mask_zero") is True
            padding = torch.attrs.get("padding_idx")
            if not masked and padding is None:
                continue
            parts = []
            if masked:
                parts.append("Keras mask_zero=True propagates a mask that torch never builds "
                             "(RNNs and pooling then include the padded steps)")
            if padding is not None:
                parts.append(f"torch padding_idx={padding} zero-initialises row {padding} and "
                             f"blocks its gradient, which Keras does not"
                             + (" (it is not a mask)" if masked else ""))
            yield self.finding(ctx, "; ".join(parts), at=port, about=origin)




RULES = [LayerConfigMismatch, EmbeddingPaddingMismatch]
