"""Shapes of tensor products: `a @ b` (torch.matmul, tf.matmul with its transposes, a
tensor times a layer's own 2-D weight) and `tf.einsum`. Shapes are per sample, as in
`inference`; a constant operand's shape is its full shape (it has no batch)."""

from __future__ import annotations

from ..ir import Node

_BATCH = "batch"


def _swap_last(shape: tuple) -> tuple | None:
    return (*shape[:-2], shape[-1], shape[-2]) if len(shape) >= 2 else None


def matmul(node: Node, inputs: list[Node], framework: str) -> tuple:
    """(..., n, k) @ (..., k, m) -> (..., n, m), per sample; `transpose_a`/`transpose_b`
    swap an operand's last two axes first. Unknown unless both shapes are known with the
    same rank, or the second operand is a constant 2-D matrix."""
    attrs = node.attrs
    if "equation" in attrs:
        return einsum(node, inputs, framework)
    shapes = [i.out_shape for i in inputs]
    if attrs.get("constant_shape") is not None or "constant_side" in attrs:
        right = attrs.get("constant_shape")
        left = shapes[0] if shapes else None
        if attrs.get("constant_side") != "b" or left is None or attrs.get("transpose_a") \
                or not isinstance(right, tuple) or len(right) != 2:
            return None, node.in_layout
        width = right[0] if attrs.get("transpose_b") else right[1]
        return (*left[:-1], width), node.in_layout
    if len(shapes) != 2 or any(s is None for s in shapes) or len(shapes[0]) != len(shapes[1]) \
            or len(shapes[0]) < 2:
        return None, node.in_layout
    left, right = shapes
    if attrs.get("transpose_a"):
        left = _swap_last(left)
    if attrs.get("transpose_b"):
        right = _swap_last(right)
    return (*left[:-1], right[-1]), node.in_layout


def einsum(node: Node, inputs: list[Node], framework: str) -> tuple:
    """tf.einsum("bhld,lrd->bhlr", q, w): each letter's size from the operands (a tensor
    operand's first letter may be its batch), then the output's; the output must start
    with the batch and hold it once."""
    equation, constants = node.attrs.get("equation"), node.attrs.get("operand_shapes")
    if not isinstance(equation, str) or "->" not in equation or "." in equation \
            or not isinstance(constants, tuple):
        return None, node.in_layout
    terms, output = equation.split("->")
    operands = terms.split(",")
    tensors = iter(inputs)
    sizes: dict[str, object] = {}
    if len(operands) != len(constants):
        return None, node.in_layout
    for letters, constant in zip(operands, constants):
        if constant is None:
            given = next(tensors, None)
            shape = None if given is None or given.out_shape is None else (_BATCH, *given.out_shape)
        else:
            shape = constant
        if not isinstance(shape, tuple) or len(shape) != len(letters):
            return None, node.in_layout
        for letter, size in zip(letters, shape):
            if sizes.get(letter, size) is None:
                sizes[letter] = size
            elif size is not None and sizes.setdefault(letter, size) != size:
                return None, node.in_layout
    if any(letter not in sizes for letter in output):
        return None, node.in_layout
    out = [sizes[letter] for letter in output]
    if not out or out[0] != _BATCH or _BATCH in out[1:]:
        return None, node.in_layout
    return tuple(out[1:]), node.in_layout
