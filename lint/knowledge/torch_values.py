"""torch facts about values built from constants: tensor factories and their sizes,
methods that keep a tensor or give its size, functions computed on constant tensors, and
the weight shapes of a layer from its constructor arguments."""

from __future__ import annotations

from typing import Any, Mapping

from . import LayerSpec
from .ops import Op

# Methods that return their tensor unchanged for our purposes.
IDENTITY_METHODS = frozenset({"contiguous", "float", "to", "cpu", "cuda", "clone", "detach",
                              "type", "double", "half"})
# Tensor methods that are Python's arithmetic operators (`x.mul(gamma)` is `x * gamma`),
# by the operator's libcst name.
ARITHMETIC_METHODS = {"add": "Add", "sub": "Subtract", "mul": "Multiply", "div": "Divide",
                      "multiply": "Multiply", "subtract": "Subtract", "divide": "Divide",
                      "add_": "Add", "mul_": "Multiply", "sub_": "Subtract", "div_": "Divide"}

# Methods that return the shape or a dimension.
SHAPE_METHODS = frozenset({"size", "dim", "numel"})

# torch functions that build a tensor from constants: only the shape is kept.
TENSOR_FACTORIES = frozenset({"zeros", "ones", "randn", "rand", "empty", "full"})
# The legacy constructors: `torch.Tensor(768)` is an uninitialised tensor of that size,
# `torch.Tensor([1.0, 2.0])` one of that data.
SIZE_OR_DATA_FACTORIES = frozenset({"Tensor", "FloatTensor", "DoubleTensor", "LongTensor"})
PARAMETER_CLASSES = frozenset({"Parameter"})
# torch functions computed on constant 1-D tensors (configuration arithmetic).
CONSTANT_FUNCTIONS = frozenset({"arange", "tensor", "round", "log", "exp", "sqrt", "floor",
                                "ceil", "abs", "divide", "div", "true_divide", "pow", "diff",
                                "stack", "meshgrid", "sign", "log2", "ones_like",
                                "zeros_like", "linspace"})
# In-place initialisers on such tensors: the shape stays.
INPLACE_INIT_METHODS = frozenset({"normal_", "uniform_", "zero_", "fill_", "mul_", "add_",
                                  "trunc_normal_", "clone", "detach", "float", "to"})


def weight_shape(spec: LayerSpec, args: Mapping[str, Any], name: str) -> tuple | None:
    """`conv.weight.shape` = (out, in / groups, *kernel); `bias` = (out,), from a torch
    layer's constructor arguments."""
    if spec.op not in (Op.CONV, Op.DENSE):
        return None
    if spec.op == Op.DENSE:
        out, cin = args.get("out_features"), args.get("in_features")
        shape: tuple = (out,) if name == "bias" else (out, cin)
    else:
        out, cin = args.get("out_channels"), args.get("in_channels")
        groups = args.get("groups", spec.default("groups"))
        kernel = args.get("kernel_size")
        rank = spec.fixed.get("rank", 2)
        kernel = (kernel,) * rank if isinstance(kernel, int) else kernel
        if not (isinstance(cin, int) and isinstance(groups, int) and isinstance(kernel, tuple)):
            return None
        shape = (out,) if name == "bias" else (out, cin // groups, *kernel)
    return shape if all(isinstance(d, int) for d in shape) else None


# Initialisers (`nn.init.kaiming_normal_`): calling one makes the weights custom.
INIT_NAMESPACE = "nn.init."


def factory_dims(name: str, args: list[Any]) -> tuple | list:
    """The size a tensor factory is given: `zeros(2, 3)` and `zeros((2, 3))` alike;
    `full(size, value)` takes it first."""
    dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    if name in SIZE_OR_DATA_FACTORIES and len(args) == 1 and isinstance(args[0], (tuple, list)):
        data = args[0]  # torch.Tensor([1.0, 2.0]): the data, not the size
        return (len(data),) if all(isinstance(v, (int, float)) for v in data) else (None,)
    if name == "full":
        dims = args[0] if args else ()
    if not isinstance(dims, (tuple, list)):  # torch.full(size_not_known, ...)
        dims = (dims,)
    return dims
