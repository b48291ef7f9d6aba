"""Command-line values converted without pydantic, for a fast start-up (issue 7).

typer 0.29 converts every command-line value (except a flag's own `True`/`False`) with a
pydantic `TypeAdapter` (`typer._coercion.build_runtime_param`), so every portlint command
imported pydantic and built adapters: about 0.1 s, as much as the rest of `portlint rule`
and a sixth of a cold `compare` of two small files. portlint's parameters are only `str`,
`int`, `float`, `bool`, `list[...]` of those and `str`-valued `Enum` choices, which need
no pydantic. `install()` hands typer a light converter for exactly these, with pydantic's
results (`" 3"`, `"1_0"` and `"3.0"` are integers, `"inf"` a number, `"yes"` true) and
messages, in the same `Invalid value for '--opt': ...` error (a bad choice reads
`'xml' is not one of 'text', ...`, without pydantic's `Value error, ` in front), `min=`,
`max=` and `clamp=` included. Any other parameter (a `Path`, a `parser=`, a tuple, ...)
still goes to typer's converter.

This reaches into typer's internals, so it is defensive: when typer does not look like the
version it was written for (0.29: `typer.core.build_runtime_param`,
`typer._coercion.RuntimeParam`) it installs nothing and typer converts values as usual,
only slower. Older typers (< 0.29) convert with click's types and never import pydantic.
tests/cli/test_startup.py checks that the commands import no pydantic and that the converter
agrees with typer's own.
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum
from typing import Any, Callable, get_args, get_origin

INT_ERROR = "Input should be a valid integer, unable to parse string as an integer"
FRACTION_ERROR = "Input should be a valid integer, got a number with a fractional part"
FLOAT_ERROR = "Input should be a valid number, unable to parse string as a number"
BOOL_ERROR = "Input should be a valid boolean, unable to interpret input"


def to_str(value: Any, ctx: Any = None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# pydantic's integers in strings: ASCII digits, `_` between digits, a zero fraction.
INT_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")


def to_int(value: Any, ctx: Any = None) -> int:
    if isinstance(value, int):
        return int(value)  # a bool is 0 or 1
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(FRACTION_ERROR)
        return int(value)
    text = to_str(value).strip()
    if not INT_TEXT.fullmatch(text):
        raise ValueError(INT_ERROR)
    return int(text.partition(".")[0])


def to_float(value: Any, ctx: Any = None) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = to_str(value).strip()
    try:
        if text.isascii():  # float() also reads other scripts' digits; pydantic does not
            return float(text)
    except ValueError:
        pass
    raise ValueError(FLOAT_ERROR)


TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE = frozenset({"", "0", "off", "f", "false", "n", "no"})


def to_bool(value: Any, ctx: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = to_str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ValueError(BOOL_ERROR)


LEAVES: dict[Any, Callable[[Any, Any], Any]] = {str: to_str, int: to_int, float: to_float,
                                                bool: to_bool}


def converter(annotation: Any, info: Any,
              choice: Callable[..., Any]) -> Callable[[Any, Any], Any] | None:
    """How to convert a value of `annotation` (after typer removed `Optional`), or None
    when typer's own converter must do it."""
    if get_origin(annotation) is list:
        args = get_args(annotation)
        item = converter(args[0], info, choice) if len(args) == 1 else None
        if item is None:
            return None

        def each(value: Any, ctx: Any) -> list:
            values = value if isinstance(value, (list, tuple)) else [value]
            return [item(v, ctx) for v in values]

        return each
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = tuple(annotation)
        case_sensitive = getattr(info, "case_sensitive", True)
        return lambda value, ctx: choice(value, choices=choices, case_sensitive=case_sensitive,
                                         ctx=ctx)
    if annotation in LEAVES:
        leaf = LEAVES[annotation]
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if annotation not in (int, float) or (low is None and high is None):
            return leaf
        return lambda value, ctx: bounded(annotation, leaf(value, ctx), low, high,
                                          clamp=bool(getattr(info, "clamp", False)))
    return None


def bounded(number: type, value: Any, low: Any, high: Any, *, clamp: bool) -> Any:
    """`value` within `min=`/`max=`: moved to the bound with `clamp=True`, else an error
    (NaN is outside any bound, as for pydantic, unless clamped)."""
    nan = value != value
    if low is not None and (value < low or nan):
        if clamp:
            return value if nan else number(low)
        raise ValueError(f"Input should be greater than or equal to {low}")
    if high is not None and (value > high or nan):
        if clamp:
            return value if nan else number(high)
        raise ValueError(f"Input should be less than or equal to {high}")
    return value


def install() -> bool:
    """Give typer the light converter; True when it was installed (or already was)."""
    try:
        from typer import core
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
        from typer._param_types import coerce_cli_choice
    except ImportError:
        return False
    original = getattr(core, "build_runtime_param", None)
    if original is None:
        return False
    if getattr(original, "portlint_light", False):
        return True
    if not (dataclasses.is_dataclass(RuntimeParam) and hasattr(RuntimeParam, "_coerce_value")
            and [f.name for f in dataclasses.fields(RuntimeParam)]
            == ["parameter_info", "annotation"]):
        return False  # not the typer this was written for: leave it alone

    @dataclasses.dataclass(frozen=True)
    class LightRuntimeParam(RuntimeParam):
        convert: Callable[[Any, Any], Any]

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return self.convert(value, ctx)
            except ValueError as exc:
                raise BadParameter(str(exc), ctx=ctx, param=param) from None

    def build_runtime_param(descriptor: Any) -> Any:
        info = getattr(descriptor, "parameter_info", None)
        if (getattr(descriptor, "file_annotation", None) is None and info is not None
                and getattr(info, "parser", None) is None
                and getattr(info, "click_type", None) is None):
            convert = converter(descriptor.annotation, info, coerce_cli_choice)
            if convert is not None:
                return LightRuntimeParam(parameter_info=info, annotation=descriptor.annotation,
                                         convert=convert)
        return original(descriptor)

    build_runtime_param.portlint_light = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param
    return True
