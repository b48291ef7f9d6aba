"""Keras utility functions model code calls (`backend.image_data_format()`, the
applications' `obtain_input_shape`), with the result each gives statically."""

from __future__ import annotations

from typing import Any

DEFAULT_DATA_FORMAT = "channels_last"


def _obtain_input_shape(input_shape: Any = None, default_size: Any = None, min_size: Any = None,
                        data_format: Any = None, require_flatten: Any = None,
                        weights: Any = None) -> Any:
    """keras.src.applications.imagenet_utils.obtain_input_shape, for valid arguments."""
    first = data_format == "channels_first"
    channels = 3
    if weights != "imagenet" and isinstance(input_shape, (tuple, list)) and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
    default = (channels, default_size, default_size) if first else (default_size, default_size, channels)
    if input_shape:
        return tuple(input_shape)
    if require_flatten:
        return default
    return (channels, None, None) if first else (None, None, channels)


def _correct_pad(shape_of: Any, inputs: Any, kernel_size: Any) -> Any:
    """keras.src.applications.imagenet_utils.correct_pad: TF-'same'-like zero padding."""
    shape = shape_of(inputs)  # per sample, channels last
    size = shape[:2] if shape and len(shape) == 3 else (None, None)
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


# Keras utility functions model code calls, with their static result: `(args, kwargs,
# shape_of) -> value`, where shape_of gives a tensor's per-sample shape (or None).
HELPERS: dict[str, Any] = {
    "backend.image_data_format": lambda a, k, shape_of: DEFAULT_DATA_FORMAT,
    "backend.backend": lambda a, k, shape_of: "tensorflow",
    "backend.floatx": lambda a, k, shape_of: "float32",
    "backend.is_keras_tensor": lambda a, k, shape_of: bool(a) and shape_of(a[0]) is not None,
    "backend.int_shape": lambda a, k, shape_of: (None, *shape_of(a[0])) if a and shape_of(a[0]) is not None else None,
    "applications.imagenet_utils.obtain_input_shape": lambda a, k, shape_of: _obtain_input_shape(*a, **k),
    "applications.imagenet_utils.correct_pad": lambda a, k, shape_of: _correct_pad(shape_of, *a, **k),
    "applications.imagenet_utils.validate_activation": lambda a, k, shape_of: None,
    "ops.operation_utils.get_source_inputs": lambda a, k, shape_of: a[0] if a else None,
    "utils.get_source_inputs": lambda a, k, shape_of: a[0] if a else None,
    "utils.file_utils.exists": lambda a, k, shape_of: False,
}
