"""How a call reached the framework class it constructs: by the class itself, or through
something that could hold another class.

`nn.BatchNorm2d(c)`, `BN(c)` after `from torch.nn import BatchNorm2d as BN`, and
`layers.BatchNormalization()` name the class: an edit to the call's arguments edits that
class's construction. `norm_layer(c)` with `norm_layer` a parameter (torchvision passes
`FrozenBatchNorm2d` there), a variable, a factory's result, a dict lookup or a
functools.partial only happen to hold it in the analysed run: the same edit would break the
code for the other classes it can hold (a keyword `FrozenBatchNorm2d` does not take).
"""

from __future__ import annotations

from typing import Any

from .scope import Scope
from .values import Partial

MAX_SHOWN = 60  # characters of the callee expression quoted in a reason

# Why an expression that is not a name chain may hold another class, by libcst node type.
EXPRESSION_KINDS = {
    "Call": "the result of a call (a factory)",
    "Subscript": "a lookup",
    "IfExp": "a conditional expression",
    "BooleanOperation": "a boolean expression",
}


def indirection(func_node: Any, func: Any, scope: Scope) -> str | None:
    """None when the callee expression names a framework class through a framework
    import; otherwise a reason, e.g. "`norm_layer` is a parameter"."""
    what = _what_holds(func_node, func, scope)
    return None if what is None else f"`{_code(func_node)}` is {what}"


def _what_holds(func_node: Any, func: Any, scope: Scope) -> str | None:
    if isinstance(func, Partial):
        return "a functools.partial"
    root = func_node
    while type(root).__name__ == "Attribute":
        root = root.value
    kind = type(root).__name__
    if kind != "Name":
        return EXPRESSION_KINDS.get(kind, "an expression")
    name = root.value
    holder = scope.holder(name)
    if holder is None:
        # Not bound in the analysed code's scopes: a name from a `from X import *`.
        return None if _star_imports_framework(scope) else "not a framework import"
    if holder.framework_import(name):
        return None
    if root is not func_node:
        return f"an attribute of `{name}`, set at run time"
    if name in holder.params:
        return "a parameter"
    if name in holder.imports:
        return "imported from the analysed code, not from the framework"
    return "a variable"


def computed_arguments(arg_sites: dict[str, Any]) -> frozenset[str]:
    """The arguments whose value is not written as a literal (`eps=eps` in a helper,
    `momentum=cfg.momentum`): replacing the expression with a number would cut it from what
    it is computed from, for every caller."""
    return frozenset(param for param, site in arg_sites.items()
                     if site is not None and not _literal(site.node))


LITERALS = {"Integer", "Float", "Imaginary", "SimpleString", "ConcatenatedString"}


def _literal(node: Any) -> bool:
    kind = type(node).__name__
    if kind in LITERALS:
        return True
    if kind == "Name":
        return node.value in ("True", "False", "None")
    if kind == "UnaryOperation":
        return type(node.operator).__name__ in ("Minus", "Plus") and _literal(node.expression)
    if kind in ("Tuple", "List"):
        return all(type(e).__name__ == "Element" and _literal(e.value) for e in node.elements)
    return False


def _star_imports_framework(scope: Scope) -> bool:
    module = scope
    while module.parent is not None:
        module = module.parent
    return bool(module.stars)


def _code(node: Any) -> str:
    import libcst as cst

    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."
