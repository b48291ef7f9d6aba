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


def linspace(start: Any, end: Any, steps: Any = None) -> ConstTensor | None:
    """torch.linspace(start, end, steps): float32, both ends included (ConvNeXt's
    stochastic-depth rates per block)."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, end)) \
            or not isinstance(steps, int) or not 0 <= steps <= MAX_ELEMENTS:
        return None
    if steps == 1:
        return _tensor([start], "float")
    step = (end - start) / (steps - 1)
    return _tensor([start + i * step for i in range(steps)], "float")


def from_data(data: Any) -> ConstTensor | None:
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return ConstTensor((), None, _dtype(data))  # torch.tensor(2.0): a 0-d tensor
    if isinstance(data, (list, tuple)) and len(data) <= MAX_ELEMENTS and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
        return _tensor(list(data), _dtype(*data))
    return None


def split(t: ConstTensor, sizes: Any, dim: int = 0) -> tuple | None:
    """t.split(3) / t.split([2, 2, 6]) of a 1-D tensor with values: the pieces."""
    values = t.values
    if values is None or dim not in (0, -1):
        return None
    if isinstance(sizes, int) and not isinstance(sizes, bool) and sizes > 0:
        sizes = [min(sizes, len(values) - i) for i in range(0, len(values), sizes)]
    if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(n, int) and n >= 0 for n in sizes) or sum(sizes) != len(values):
        return None
    pieces, start = [], 0
    for n in sizes:
        pieces.append(ConstTensor((n,), values[start:start + n], t.dtype))
        start += n
    return tuple(pieces)


def binary(operator: Callable[[Any, Any], Any], left: Any, right: Any,
           true_divide: bool = False) -> ConstTensor | None:
    """Elementwise `left op right` with broadcasting of scalars; shapes only when the
    values are not kept."""
    lv = left.values if isinstance(left, ConstTensor) else None
    rv = right.values if isinstance(right, ConstTensor) else None
    if isinstance(left, ConstTensor) and lv is None or isinstance(right, ConstTensor) and rv is None:
        return broadcast(left, right)
    if lv is None and rv is None:  # `torch.pow(a, b)` on two plain values: not a tensor here
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


def call(name: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
    """torch.<name>(...) on constant tensors: round/log/exp/..., divide/pow, diff."""
    if name in UNARY and len(args) == 1 and isinstance(args[0], ConstTensor) and args[0].values is None:
        return _shape_only(args[0].shape)
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
        return arange(*[a for a in args])
    if name == "linspace":
        values = {k: v for k, v in (kwargs or {}).items() if k in ("start", "end", "steps")}
        try:
            return linspace(*args[:3], **values)
        except TypeError:
            return None
    if name in SHAPE_FUNCTIONS:
        options = {k: v for k, v in (kwargs or {}).items() if k in ("dim", "indexing", "start_dim", "end_dim")}
        try:
            return SHAPE_FUNCTIONS[name](*args, **options)
        except (TypeError, IndexError, ValueError):
            return None
    return None


def method(t: ConstTensor, name: str, args: list[Any]) -> Any:
    """Methods of a constant tensor; None when not modelled."""
    if name in SHAPE_METHODS and (t.values is None or name not in ("flatten", "sum")):
        try:
            return SHAPE_METHODS[name](t, *args)
        except (TypeError, IndexError, ValueError):
            return None
    if t.values is None:
        return None
    if name == "tolist":
        return list(t.values) if t.shape else t.values[0] if t.values else None
    if name == "split" and args:
        return split(t, *args[:2])
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


# --- shapes of constant tensors of any rank (values not kept) --------------------------

def _shape_only(shape: tuple | None, dtype: str = "float") -> ConstTensor:
    return ConstTensor(tuple(shape) if shape is not None else None, None, dtype)


def broadcast(left: Any, right: Any) -> ConstTensor | None:
    """The shape of `left op right` under broadcasting, for shape-only tensors."""
    shapes = [t.shape for t in (left, right) if isinstance(t, ConstTensor)]
    if any(s is None for s in shapes):
        return _shape_only(None)
    if len(shapes) == 1:
        return _shape_only(shapes[0], _dtype(left, right))
    a, b = shapes
    rank = max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return _shape_only(tuple(out), _dtype(left, right))


def _dim(dim: int, rank: int) -> int:
    return dim % rank if rank else 0


def stack(tensors: Any, dim: int = 0) -> ConstTensor | None:
    if not isinstance(tensors, (list, tuple)) or not tensors or not all(
            isinstance(t, ConstTensor) and t.shape is not None for t in tensors):
        return None
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        return None
    out = list(shape)
    out.insert(_dim(dim, len(shape) + 1), len(tensors))
    return _shape_only(tuple(out), tensors[0].dtype)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple | None:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not all(isinstance(t, ConstTensor) and t.shape is not None and len(t.shape) == 1
               for t in tensors):
        return None
    sizes = [t.shape[0] for t in tensors]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(_shape_only(tuple(sizes), t.dtype) for t in tensors)


def flatten(t: ConstTensor, start_dim: int = 0, end_dim: int = -1) -> ConstTensor | None:
    if t.shape is None:
        return _shape_only(None)
    rank = len(t.shape)
    if rank == 0:
        return _shape_only((1,), t.dtype)
    start, end = _dim(start_dim, rank), _dim(end_dim, rank)
    merged = math.prod(t.shape[start:end + 1])
    return _shape_only((*t.shape[:start], merged, *t.shape[end + 1:]), t.dtype)


def index(t: ConstTensor, items: tuple) -> ConstTensor | None:
    """t[:, :, None], t[0], t[:, 1:]: the resulting shape."""
    if t.shape is None:
        return _shape_only(None)
    out, axis = [], 0
    for item in items:
        if item is None:
            out.append(1)
        elif isinstance(item, slice):
            if axis >= len(t.shape):
                return None
            out.append(len(range(*item.indices(t.shape[axis]))))
            axis += 1
        elif isinstance(item, int):
            axis += 1
        else:
            return None
    out.extend(t.shape[axis:])
    return _shape_only(tuple(out), t.dtype)


def reshape(t: ConstTensor, dims: tuple) -> ConstTensor | None:
    if t.shape is None or not all(isinstance(d, int) for d in dims):
        return _shape_only(None)
    total = math.prod(t.shape)
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims = tuple(total // known if d == -1 else d for d in dims)
    return _shape_only(dims, t.dtype)


SHAPE_METHODS: dict[str, Callable[..., Any]] = {
    "size": lambda t, *d: None if t.shape is None else t.shape[d[0]] if d else tuple(t.shape),
    "dim": lambda t: None if t.shape is None else len(t.shape),
    "contiguous": lambda t: t,
    # TF eager tensors: `rates.numpy().tolist()`; a 0-d one with its value is that number
    "numpy": lambda t: t.values[0] if t.shape == () and t.values else t,
    "clone": lambda t: t,
    "detach": lambda t: t,
    "unsqueeze": lambda t, d: None if t.shape is None else _shape_only(
        (*t.shape[:_dim(d, len(t.shape) + 1)], 1, *t.shape[_dim(d, len(t.shape) + 1):]), t.dtype),
    "permute": lambda t, *dims: None if t.shape is None else _shape_only(
        tuple(t.shape[d] for d in (dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims)), t.dtype),
    "sum": lambda t, dim=None, keepdim=False: _shape_only(
        () if dim is None else tuple(s for i, s in enumerate(t.shape) if i != _dim(dim, len(t.shape))), t.dtype)
        if t.shape is not None else None,
    "flatten": lambda t, start_dim=0, end_dim=-1: flatten(t, start_dim, end_dim),
    "view": lambda t, *dims: reshape(t, dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims),
    "reshape": lambda t, *dims: reshape(t, dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims),
    "numel": lambda t: None if t.shape is None else math.prod(t.shape),
}
SHAPE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "stack": stack,
    "meshgrid": meshgrid,
    "flatten": lambda t, start_dim=0, end_dim=-1: flatten(t, start_dim, end_dim) if isinstance(t, ConstTensor) else None,
    "sign": lambda t: t if isinstance(t, ConstTensor) else None,
    "log2": lambda t: _shape_only(t.shape) if isinstance(t, ConstTensor) else None,
    "ones_like": lambda t: _shape_only(t.shape) if isinstance(t, ConstTensor) else None,
    "zeros_like": lambda t: _shape_only(t.shape) if isinstance(t, ConstTensor) else None,
}
