"""Arithmetic on small constant 1-D torch tensors, as model code uses them to compute a
configuration (torchvision's RegNet: `torch.round(torch.log(torch.arange(d) * w_a + w_0)
...).int().tolist()`). Float results are rounded to float32, as torch computes them."""

from __future__ import annotations

import math
import struct
from typing import Any, Callable

from .values import ConstTensor

MAX_ELEMENTS = 10_000


def _f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def _tensor(values: list, dtype: str) -> ConstTensor:
    if dtype == "float":
        values = [_f32(float(v)) for v in values]
    return ConstTensor((len(values),), tuple(values), dtype)


def _dtype(*items: Any) -> str:
    for item in items:
        if isinstance(item, ConstTensor) and item.dtype == "float" or isinstance(item, float):
            return "float"
    return "int"


def arange(*args: Any) -> ConstTensor | None:
    if not all(isinstance(a, (int, float)) for a in args) or not 1 <= len(args) <= 3:
        return None
    start, end, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    count = max(math.ceil((end - start) / step), 0)
    if count > MAX_ELEMENTS:
        return None
    return _tensor([start + i * step for i in range(count)], _dtype(*args))


def from_data(data: Any) -> ConstTensor | None:
    if isinstance(data, (list, tuple)) and len(data) <= MAX_ELEMENTS and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
        return _tensor(list(data), _dtype(*data))
    return None


def binary(operator: Callable[[Any, Any], Any], left: Any, right: Any,
           true_divide: bool = False) -> ConstTensor | None:
    """Elementwise `left op right` with broadcasting of scalars."""
    lv = left.values if isinstance(left, ConstTensor) else None
    rv = right.values if isinstance(right, ConstTensor) else None
    if isinstance(left, ConstTensor) and lv is None or isinstance(right, ConstTensor) and rv is None:
        return None
    size = len(lv) if lv is not None else len(rv)
    lv = lv if lv is not None else [left] * size
    rv = rv if rv is not None else [right] * size
    if len(lv) != len(rv):
        return None
    dtype = "float" if true_divide else _dtype(left, right)
    try:
        return _tensor([operator(a, b) for a, b in zip(lv, rv)], dtype)
    except (ArithmeticError, ValueError, TypeError):
        return None


UNARY: dict[str, Callable[[float], float]] = {
    "round": round, "log": math.log, "exp": math.exp, "sqrt": math.sqrt, "floor": math.floor,
    "ceil": math.ceil, "abs": abs,
}


def call(name: str, args: list[Any]) -> ConstTensor | None:
    """torch.<name>(...) on constant tensors: round/log/exp/..., divide/pow, diff."""
    if name in UNARY and len(args) == 1 and isinstance(args[0], ConstTensor) and args[0].values is not None:
        t = args[0]
        dtype = "float" if name in ("log", "exp", "sqrt") else t.dtype
        try:
            return _tensor([UNARY[name](v) for v in t.values], dtype)
        except (ArithmeticError, ValueError):
            return None
    if name in ("divide", "div", "true_divide") and len(args) == 2:
        return binary(lambda a, b: a / b, args[0], args[1], true_divide=True)
    if name == "pow" and len(args) == 2:
        return binary(lambda a, b: a ** b, args[0], args[1])
    if name == "diff" and len(args) == 1 and isinstance(args[0], ConstTensor) and args[0].values is not None:
        v = args[0].values
        return _tensor([b - a for a, b in zip(v, v[1:])], args[0].dtype)
    if name == "tensor" and args:
        return from_data(args[0])
    if name == "arange":
        return arange(*args)
    return None


def method(t: ConstTensor, name: str, args: list[Any]) -> Any:
    """Methods of a constant tensor; None when not modelled."""
    if t.values is None:
        return None
    if name == "tolist":
        return list(t.values)
    if name in ("int", "long"):
        return _tensor([int(v) for v in t.values], "int")
    if name in ("float", "double"):
        return _tensor(list(t.values), "float")
    if name == "item" and len(t.values) == 1:
        return t.values[0]
    if name == "numel":
        return len(t.values)
    if name in UNARY and not args:
        return call(name, [t])
    return None
