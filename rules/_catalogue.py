"""Every rule's code, name, severity, summary and class, without importing the rules.

Generated from the rule classes (`portlint.rules.registry.all_rules()`) by

    python -m portlint.rules

(rules/__main__.py), which rewrites the ROWS below; do not edit them by hand.
tests/cli/test_startup.py fails when they no longer match the classes (a rule added, renamed,
re-summarised).
"""

from __future__ import annotations

# (code, name, severity, summary, "module:Class"), by code.
ROWS: tuple[tuple[str, str, str, str, str], ...] = (
# BEGIN GENERATED
    ('PTL101', 'batchnorm-momentum-mismatch', 'error', 'Batch-norm momenta that are not equivalent under the two conventions', 'portlint.rules.normalization:BatchNormMomentumMismatch'),
    ('PTL102', 'norm-epsilon-mismatch', 'error', 'Epsilon of a normalization layer differs, defaults included', 'portlint.rules.normalization:NormEpsilonMismatch'),
    ('PTL103', 'norm-affine-mismatch', 'error', 'Keras center/scale and torch affine disagree', 'portlint.rules.normalization:NormAffineMismatch'),
    ('PTL104', 'normalization-axis-mismatch', 'error', "The normalized axis is not the same feature axis under each side's layout", 'portlint.rules.normalization:NormalizationAxisMismatch'),
    ('PTL105', 'norm-kind-mismatch', 'error', 'LayerNorm aligned with RMSNorm, or Keras rms_scaling taken for RMSNorm', 'portlint.rules.normalization:NormKindMismatch'),
    ('PTL201', 'flatten-layout-mismatch', 'warning', 'Flatten of a channels-last map vs a channels-first map before Dense/Linear', 'portlint.rules.layout:FlattenLayoutMismatch'),
    ('PTL202', 'concat-axis-mismatch', 'error', 'Concatenate axis vs torch.cat dim join different axes under each layout', 'portlint.rules.layout:ConcatAxisMismatch'),
    ('PTL203', 'reshape-layout-mismatch', 'warning', 'Reshape of features into an image in NHWC vs NCHW order, or batch-less torch indices', 'portlint.rules.layout:ReshapeLayoutMismatch'),
    ('PTL301', 'same-padding-mismatch', 'error', "TF 'same' padding (asymmetric for stride > 1 or even kernels) vs torch padding", 'portlint.rules.geometry:SamePaddingMismatch'),
    ('PTL302', 'pooling-mismatch', 'error', 'Pooling padding, count_include_pad or ceil_mode that changes the result', 'portlint.rules.geometry:PoolingMismatch'),
    ('PTL401', 'activation-mismatch', 'error', 'Missing, extra or different activation at aligned positions', 'portlint.rules.activations:ActivationMismatch'),
    ('PTL402', 'activation-order-mismatch', 'error', 'The same activation and normalization in a different order', 'portlint.rules.activations:ActivationOrderMismatch'),
    ('PTL403', 'activation-default-mismatch', 'error', 'Same activation, different effective parameters (slopes, GELU approximation, softmax axis)', 'portlint.rules.activations:ActivationDefaultMismatch'),
    ('PTL404', 'output-activation-mismatch', 'warning', 'Softmax/sigmoid head on one side, logits on the other', 'portlint.rules.activations:OutputActivationMismatch'),
    ('PTL501', 'layer-config-mismatch', 'error', 'Plain layer configuration differs: filters/units, kernel, stride, bias, recurrent cell, embedding size, attention heads and batch_first, upsampling mode, dropout rate and variant', 'portlint.rules.layer_config:LayerConfigMismatch'),
    ('PTL502', 'shape-mismatch', 'error', 'Statically inferred in_features/in_channels/shapes disagree', 'portlint.rules.structure:ShapeMismatch'),
    ('PTL503', 'missing-layer', 'error', 'A layer on one side has no counterpart on the other', 'portlint.rules.structure:MissingLayer'),
    ('PTL504', 'embedding-padding-mismatch', 'warning', 'Keras mask_zero and torch padding_idx are different features', 'portlint.rules.layer_config:EmbeddingPaddingMismatch'),
    ('PTL505', 'layer-order-mismatch', 'warning', 'The same layer in a different place: BatchNorm before a pool on one side, after it on the other', 'portlint.rules.structure:LayerOrderMismatch'),
    ('PTL601', 'rnn-convention-mismatch', 'warning', 'Recurrent conventions: reset_after, gate activations, batch_first, returned sequence or state, bidirectional last step and merge mode', 'portlint.rules.recurrent:RnnConventionMismatch'),
    ('PTL701', 'param-count-mismatch', 'error', 'Trainable parameter totals differ after convention mapping', 'portlint.rules.accounting:ParamCountMismatch'),
    ('PTL702', 'buffer-accounting', 'info', 'Explains count differences that are conventions, not bugs', 'portlint.rules.accounting:BufferAccounting'),
    ('PTL703', 'initializer-mismatch', 'info', 'Default or explicit initializers differ (matters when training from scratch)', 'portlint.rules.accounting:InitializerMismatch'),
    ('PTL704', 'static-dynamic-count-mismatch', 'error', "A layer's weight count in the built model differs from the static extraction (verify only)", 'portlint.rules.dynamic:StaticDynamicCountMismatch'),
    ('PTL801', 'softmax-implicit-dim', 'warning', 'torch softmax/log_softmax without dim: the implicit dim is the batch axis for 3-D input', 'portlint.rules.single_file:SoftmaxImplicitDim'),
    ('PTL802', 'probabilities-into-logits-loss', 'warning', 'A softmax/sigmoid model output fed to a loss that expects logits', 'portlint.rules.single_file:ProbabilitiesIntoLogitsLoss'),
    ('PTL803', 'batchnorm-axis-data-format', 'error', "Keras BatchNormalization axis is not the channel axis of its input's data_format", 'portlint.rules.single_file:BatchNormAxisDataFormat'),
    ('PTL901', 'unresolved-construct', 'info', 'Code the static analysis could not follow', 'portlint.rules.unresolved:UnresolvedConstruct'),
    ('PTL902', 'unused-suppression', 'warning', 'A `# portlint: ignore[...]` or `# noqa: PTL...` comment suppresses nothing (only with --report-unused-suppressions)', 'portlint.rules.suppression:UnusedSuppression'),
# END GENERATED
)
