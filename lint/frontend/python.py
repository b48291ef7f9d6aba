"""Python semantics the interpreter needs as data and small helpers: operators,
pure built-ins, modelled standard-library names, and syntax helpers over libcst nodes."""

from __future__ import annotations

import collections.abc
import copy
import math
from typing import Any

from .values import Site, Unknown

BINARY_OPS = {
    "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b,
    "Multiply": lambda a, b: a * b, "Divide": lambda a, b: a / b,
    "FloorDivide": lambda a, b: a // b, "Modulo": lambda a, b: a % b,
    "Power": lambda a, b: a ** b, "LeftShift": lambda a, b: a << b,
    "RightShift": lambda a, b: a >> b, "BitOr": lambda a, b: a | b,
    "BitAnd": lambda a, b: a & b, "BitXor": lambda a, b: a ^ b,
}
COMPARE_OPS = {
    "Equal": lambda a, b: a == b, "NotEqual": lambda a, b: a != b,
    "LessThan": lambda a, b: a < b, "LessThanEqual": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b, "GreaterThanEqual": lambda a, b: a >= b,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
    "Is": lambda a, b: a is b, "IsNot": lambda a, b: a is not b,
}
# Methods of plain values (str, list, tuple, dict) that model code uses to compute
# configurations; they run on the interpreter's own Python values.
CONSTANT_METHODS = frozenset({"split", "join", "startswith", "endswith", "replace", "format",
                              "tolist",  # numpy results are modelled as lists
                              "lower", "upper", "strip", "copy", "index", "count", "pop",
                              "update", "setdefault", "rstrip", "lstrip", "isdigit"})

MATH_FUNCTIONS = ("sqrt", "ceil", "floor", "prod", "log", "log2", "exp", "gcd", "isclose")

PURE_BUILTINS = {
    "range": range, "len": len, "int": int, "float": float, "str": str, "bool": bool,
    "tuple": tuple, "list": list, "dict": dict, "min": min, "max": max, "sum": sum,
    "abs": abs, "round": round, "enumerate": lambda *a, **k: list(enumerate(*a, **k)),
    "zip": lambda *a: list(zip(*a)), "reversed": lambda a: list(reversed(a)),
    "sorted": sorted, "any": any, "all": all, "chr": chr, "ord": ord,
    "set": lambda *a: list(dict.fromkeys(*a)),  # order-preserving: results stay deterministic
    "frozenset": lambda *a: list(dict.fromkeys(*a)), "divmod": divmod, "pow": pow,
    "copy.deepcopy": copy.deepcopy, "copy.copy": copy.copy,
    "typing.cast": lambda kind, value: value,
    "false": lambda *args, **kwargs: False,
    "namedtuple": lambda *args, **kwargs: (lambda *values, **named: (*values, *named.values())),
    "numpy.linspace": lambda start, stop, num=50: [start + i * (stop - start) / max(num - 1, 1)
                                                    for i in range(num)],
    **{f"math.{name}": getattr(math, name) for name in MATH_FUNCTIONS},
    # The environment of a fresh shell: a variable read with a default has the default
    # (kecam picks its backend with `os.getenv("KECAM_BACKEND", "tensorflow")`).
    "os.getenv": lambda key, default=None: default,
    "itertools.repeat": lambda obj, times: [obj] * times,
}
PYTHON_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
                "tuple": tuple, "dict": dict,
                # `isinstance(image_size, collections.abc.Iterable)` (HF vision models)
                **{f"collections.abc.{name}": getattr(collections.abc, name)
                   for name in ("Iterable", "Sequence", "Mapping")}}
# Standard-library (and numpy) names the interpreter models, by their dotted path, and
# the built-in behaviour each one gets.
STDLIB_BUILTINS = {"collections.OrderedDict": "OrderedDict", "functools.partial": "partial",
                   "os.getenv": "os.getenv", "os.environ.get": "os.getenv",
                   "itertools.repeat": "itertools.repeat",
                   **{f"collections.abc.{name}": f"collections.abc.{name}"
                      for name in ("Iterable", "Sequence", "Mapping")},
                   "copy.deepcopy": "copy.deepcopy", "copy.copy": "copy.copy",
                   "typing.cast": "typing.cast", "dataclasses.dataclass": "noop",
                   "collections.namedtuple": "namedtuple", "typing.NamedTuple": "namedtuple",
                   "numpy.linspace": "numpy.linspace", "numpy.prod": "math.prod",
                   **{f"math.{name}": f"math.{name}" for name in MATH_FUNCTIONS}}
BUILTINS = frozenset(PURE_BUILTINS) | {"print", "isinstance", "hasattr", "getattr", "setattr",
                                      "super", "noop", "type", "locals"}


def is_dataclass(node: Any) -> bool:
    for decorator in node.decorators:
        expr = decorator.decorator
        if type(expr).__name__ == "Call":
            expr = expr.func
        name = expr.value if type(expr).__name__ == "Name" else getattr(getattr(expr, "attr", None), "value", "")
        if name == "dataclass":
            return True
    return False


def annotated_fields(node: Any) -> list[str]:
    fields = []
    for stmt in node.body.body:
        if type(stmt).__name__ == "SimpleStatementLine":
            for small in stmt.body:
                if type(small).__name__ == "AnnAssign" and type(small.target).__name__ == "Name":
                    fields.append(small.target.value)
    return fields


def method_kind(node: Any) -> str:
    for decorator in getattr(node, "decorators", ()):
        expr = decorator.decorator
        name = expr.value if type(expr).__name__ == "Name" else getattr(getattr(expr, "attr", None), "value", "")
        if name in ("classmethod", "staticmethod", "property"):
            return name
    return "function"


def bind_arguments(params: tuple[str, ...], args: list[Any], kwargs: dict[str, Any],
                   arg_sites: dict[Any, Site], aliases: dict[str, str] | None = None,
                   ) -> tuple[dict[str, Any], dict[str, Site]]:
    """Bind call arguments to a table signature: values and source sites by name."""
    aliases = aliases or {}
    bound: dict[str, Any] = {}
    sites: dict[str, Site] = {}
    for index, value in enumerate(args[: len(params)]):
        bound[params[index]] = value
        if index in arg_sites:
            sites[params[index]] = arg_sites[index]
    for key, value in kwargs.items():
        param = aliases.get(key, key)
        bound[param] = value
        if key in arg_sites:
            sites[param] = arg_sites[key]
    return bound, sites


def raises(body: Any) -> bool:
    """A block whose last statement is `raise`."""
    if not body:
        return False
    last = body[-1]
    return (type(last).__name__ == "SimpleStatementLine"
            and type(last.body[-1]).__name__ == "Raise")


def dotted(node: Any) -> str:
    if type(node).__name__ == "Name":
        return node.value
    return f"{dotted(node.value)}.{node.attr.value}"


def import_names(small: Any) -> list[tuple[str, str]]:
    if type(small.names).__name__ == "ImportStar":
        return [("*", "*")]
    out = []
    for alias in small.names:
        name = dotted(alias.name)
        asname = alias.asname.name.value if alias.asname is not None else name
        out.append((name, asname))
    return out


def is_constant(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str, bytes, range)) or value is None:
        return True
    if isinstance(value, (tuple, list)):
        return all(is_constant(v) for v in value)
    if isinstance(value, dict):
        return all(is_constant(v) for v in value.values())
    return False


def hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return not isinstance(value, Unknown)
