"""TensorFlow tensor calls that need more than a table entry (`tf.add(x, y)`, `tf.range(n)`,
`tf.matmul(a, b, transpose_b=True)`, `tf.einsum(...)`, `tf.debugging.assert_*`), as Hugging
Face's TF models write them. Registered into `FRAMEWORK_CALLS` by the kind
`frameworks.resolve` gives their names (`TF.CALL_KINDS`)."""

from __future__ import annotations

import math
from typing import Any, Callable

from .. import ir
from ..knowledge import Attr, LayerSpec
from ..knowledge import torch as T
from ..knowledge import tensorflow as TF
from ..knowledge.ops import Op
from .python import bind_arguments, is_constant
from . import constant_tensors
from .values import ConstTensor, Tensor, Weight, tensors_in

# Python's math for the elementwise functions of plain numbers (`tf.math.sqrt(64.0)`).
_NUMBER_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt, "rsqrt": lambda v: 1 / math.sqrt(v), "exp": math.exp, "log": math.log,
    "abs": abs, "square": lambda v: v * v, "negative": lambda v: -v,
    "reciprocal": lambda v: 1 / v, "round": round, "floor": math.floor, "ceil": math.ceil,
}


def _arithmetic(interp: Any, call: Any) -> Any:
    """tf.add(x, y), tf.math.divide(x, y): the operator `x + y`, `x / y`."""
    bound, _ = bind_arguments(("x", "y", "name"), call.args, call.kwargs, call.arg_sites)
    if "x" not in bound or "y" not in bound:
        return _not_handled()
    return interp.binary(TF.ARITHMETIC[call.resolved.name], bound["x"], bound["y"],
                         call.site.source, call.site.node)


def _dims(value: Any) -> tuple | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(d, int) and not isinstance(d, bool)
                                                for d in value):
        return tuple(value)
    return None


def _nested_shape(value: Any) -> tuple | None:
    """The shape of a nested list of numbers (`tf.constant([[1, 2], [3, 4]])`)."""
    if isinstance(value, (int, float, bool)):
        return ()
    if isinstance(value, (list, tuple)) and value:
        inner = [_nested_shape(v) for v in value]
        if inner[0] is not None and all(s == inner[0] for s in inner):
            return (len(value), *inner[0])
    return None


def _factory(interp: Any, call: Any) -> Any:
    """tf.range / tf.fill / tf.constant / tf.ones / tf.zeros: a constant tensor, of its
    shape where the arguments give it."""
    name, args, kwargs = call.resolved.name, call.args, call.kwargs
    if name == "range":
        bound, _ = bind_arguments(("start", "limit", "delta"), args, kwargs, call.arg_sites)
        start, limit, delta = bound.get("start", 0), bound.get("limit"), bound.get("delta", 1)
        if limit is None:
            start, limit = 0, start
        known = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, limit, delta))
        size = len(range(start, limit, delta)) if known and delta else None
        return ConstTensor(None if size is None else (size,), dtype="int")
    if name == "constant":
        bound, _ = bind_arguments(("value", "dtype", "shape"), args, kwargs, call.arg_sites)
        shape = _dims(bound.get("shape")) if bound.get("shape") is not None else (
            _nested_shape(bound.get("value")) if is_constant(bound.get("value")) else None)
        return ConstTensor(shape)
    first = "dims" if name == "fill" else "shape"
    bound, _ = bind_arguments((first,), args[:1], {k: v for k, v in kwargs.items() if k == first},
                              call.arg_sites)
    return ConstTensor(_dims(bound.get(first)))


def _linspace(interp: Any, call: Any) -> Any:
    """tf.linspace(0.0, rate, n) of numbers: a 1-D constant tensor with its values
    (ConvNeXt's drop-path rates, read back with `.numpy().tolist()`)."""
    bound, _ = bind_arguments(("start", "stop", "num"), call.args, call.kwargs, call.arg_sites)
    start, stop, num = bound.get("start"), bound.get("stop"), bound.get("num")
    if not (all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop))
            and isinstance(num, int) and 0 < num <= constant_tensors.MAX_ELEMENTS):
        return _not_handled()
    step = (stop - start) / max(num - 1, 1)
    return constant_tensors.from_data([float(start + i * step) for i in range(num)])


def _split(interp: Any, call: Any) -> Any:
    """tf.split(value, n or sizes, axis): of a tensor, n equal chunks (GPT-2's query, key,
    value); of a 1-D constant tensor with values, its pieces."""
    bound, sites = bind_arguments(("value", "num_or_size_splits", "axis"), call.args,
                                  call.kwargs, call.arg_sites)
    value, splits, axis = bound.get("value"), bound.get("num_or_size_splits"), bound.get("axis", 0)
    if isinstance(value, ConstTensor) and value.values is not None and axis == 0:
        sizes = [len(value.values) // splits] * splits if isinstance(splits, int) and splits > 0 \
            and len(value.values) % splits == 0 else splits
        if isinstance(sizes, (list, tuple)) and all(isinstance(n, int) for n in sizes) \
                and sum(sizes) == len(value.values):
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            return [constant_tensors.from_data(list(value.values[a:a + n])) or ConstTensor((n,))
                    for a, n in zip(starts, sizes)]
        return _not_handled()
    if not isinstance(value, Tensor) or not isinstance(splits, int):
        return _not_handled()
    return interp._chunks(ir.KERAS, "tf.split", T.FUNCTIONS["chunk"],
                          {"chunks": splits, "dim": axis}, {}, [value], call.site)


def _resize(interp: Any, call: Any) -> Any:
    """tf.image.resize(images, size, method): NHWC images to `size` (its known entries);
    the channels are kept."""
    bound, _ = bind_arguments(("images", "size", "method"), call.args, call.kwargs, call.arg_sites)
    tensors = tensors_in([bound.get("images")])
    if not tensors:
        return _not_handled()
    size = bound.get("size")
    size = tuple(d if isinstance(d, int) and not isinstance(d, bool) else None for d in size) \
        if isinstance(size, (list, tuple)) else None
    method = bound.get("method", "bilinear")
    attrs = {"size": size, "mode": method.lower() if isinstance(method, str) else None}
    spec = LayerSpec(op=Op.UPSAMPLE, params=tuple(attrs), attrs={k: Attr(k) for k in attrs})
    return interp.builder.apply_function(ir.KERAS, "tf.image.resize", spec, attrs, {}, tensors,
                                         call.site, interp._path("resize"))


def _elementwise(interp: Any, call: Any) -> Any:
    """tf.math.sqrt(x), tf.nn.bias_add(x, b), tf.clip_by_value(x, lo, hi): the shape of x;
    of a plain number, its value."""
    name = call.resolved.name
    data = call.args[:1] or [call.kwargs[k] for k in ("x", "value", "t", "features")
                             if k in call.kwargs][:1]
    tensors = tensors_in(data)
    if not tensors:
        value = data[0] if data else None
        if name in _NUMBER_FUNCTIONS and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return _NUMBER_FUNCTIONS[name](value)
            except (ValueError, ZeroDivisionError, OverflowError):
                return _not_handled()
        if isinstance(value, (ConstTensor, Weight)):
            return ConstTensor(value.shape)
        return _not_handled()
    spec = LayerSpec(op=Op.ELEMENTWISE, fixed={"operator": name})
    return interp.builder.apply_function(ir.KERAS, f"tf.{name}", spec, {}, {}, tensors,
                                         call.site, interp._path(name))


def _identity(interp: Any, call: Any) -> Any:
    """tf.cast(x, dtype), tf.identity(x), tf.convert_to_tensor(x): a tensor passes through
    as an identity step; a plain value or a constant tensor is itself."""
    value = call.args[0] if call.args else next(
        (call.kwargs[k] for k in ("x", "input", "value") if k in call.kwargs), None)
    if not isinstance(value, Tensor):
        return value if is_constant(value) or isinstance(value, (ConstTensor, Weight)) else _not_handled()
    return interp.builder.apply_function(ir.KERAS, f"tf.{call.resolved.name}",
                                         LayerSpec(op=Op.IDENTITY), {}, {}, [value], call.site,
                                         interp._path(call.resolved.name))


def _matmul(interp: Any, call: Any) -> Any:
    """tf.matmul(a, b, transpose_a=..., transpose_b=...): a product of two tensors, or of
    a tensor and a layer's own 2-D weight (TFConv1D: `tf.matmul(x, self.weight)`)."""
    bound, sites = bind_arguments(("a", "b", "transpose_a", "transpose_b"), call.args,
                                  call.kwargs, call.arg_sites)
    a, b = bound.get("a"), bound.get("b")
    tensors = tensors_in([a, b])
    if not tensors or not all(isinstance(v, (Tensor, Weight, ConstTensor)) for v in (a, b)):
        return _not_handled()
    attrs: dict[str, Any] = {"transpose_a": bound.get("transpose_a", False) is True,
                             "transpose_b": bound.get("transpose_b", False) is True}
    if len(tensors) == 1:
        # The other operand is a constant: its full shape, and which side it is on.
        constant = b if isinstance(a, Tensor) else a
        attrs["constant_shape"] = constant.shape
        attrs["constant_side"] = "b" if isinstance(a, Tensor) else "a"
    spec = LayerSpec(op=Op.MATMUL, params=tuple(attrs), attrs={k: Attr(k) for k in attrs})
    return interp.builder.apply_function(ir.KERAS, "tf.matmul", spec, attrs, {}, tensors,
                                         call.site, interp._path("matmul"))


def _einsum(interp: Any, call: Any) -> Any:
    """tf.einsum(equation, *operands): a product whose shape the equation gives."""
    args = list(call.args) or [call.kwargs.get("equation")]
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = list(operands[0])
    tensors = tensors_in(operands)
    if not isinstance(equation, str) or not tensors or not all(
            isinstance(v, (Tensor, Weight, ConstTensor)) for v in operands):
        return _not_handled()
    shapes = tuple(None if isinstance(v, Tensor) else v.shape for v in operands)
    attrs = {"equation": equation.replace(" ", ""), "operand_shapes": shapes}
    spec = LayerSpec(op=Op.MATMUL, params=tuple(attrs), attrs={k: Attr(k) for k in attrs})
    return interp.builder.apply_function(ir.KERAS, "tf.einsum", spec, attrs, {}, tensors,
                                         call.site, interp._path("einsum"))


def _not_handled() -> Any:
    from .framework_calls import NOT_HANDLED
    return NOT_HANDLED


TF_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "tf_arithmetic": _arithmetic,
    "tf_factory": _factory,
    "tf_elementwise": _elementwise,
    "tf_matmul": _matmul,
    "tf_einsum": _einsum,
    "tf_identity": _identity,
    "tf_linspace": _linspace,
    "tf_split": _split,
    "tf_resize": _resize,
    "tf_no_op": lambda interp, call: None,  # tf.debugging.assert_equal(...) checks only
}
