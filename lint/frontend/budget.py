"""How much the interpreter may do: steps, iterations, call depth, and the size of the
values constant folding builds. Beyond them a value is not known statically, or the
analysis stops (BudgetExceeded)."""

from __future__ import annotations

import time
from typing import Any, Iterable

from .values import Site, Unknown


MAX_DEPTH = 60
MAX_STEPS = 500_000
MAX_ITERATIONS = 20_000
# A comprehension whose nested clauses would run more often than this (the product of
# their lengths) is not computed: such a one builds a constant table element by element
# (a sinusoidal position table of 512 x 512 floats), which would take the whole step
# budget and tell nothing about the model's structure.
MAX_COMPREHENSION = 10_000
# Constant folding must not do what the analysed program would do for minutes or with
# gigabytes (`10 ** 10 ** 9`, `[0] * 10 ** 10`, `sum(range(10 ** 13))`, a 10-GB
# `'{:>9999999999}'.format(x)`): such a value is not known statically. Integers stay
# below MAX_INT_BITS, so that sizes computed from them print (Python refuses to print
# integers of more than 4,300 digits), and sequences and strings below MAX_SIZE items;
# building a large one costs steps (1 per VALUE_COST items), which bounds the total.
MAX_INT_BITS = 1024
MAX_SIZE = 1_000_000
VALUE_COST = 64
SIZED = (str, bytes, list, tuple, dict)
# Built-ins that do not walk a range they are given (the others iterate it).
_RANGE_SAFE_BUILTINS = frozenset({"range", "len", "bool", "str"})


def too_big(op: str, left: Any, right: Any) -> bool:
    """Whether `left op right` on plain values would exceed the limits above; decided
    from the operands' sizes, before computing anything."""
    ints = isinstance(left, int) and isinstance(right, int)
    if op == "Power" and ints:
        return right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS
    if op == "LeftShift" and ints:
        return right > MAX_INT_BITS
    if op == "Multiply":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, SIZED) and isinstance(count, int):
                return len(seq) * count > MAX_SIZE
    if op == "Add" and isinstance(left, SIZED) and isinstance(right, SIZED):
        return len(left) + len(right) > MAX_SIZE
    if op == "Modulo" and isinstance(left, str):  # printf-style: '%9999999999d' % 1
        return format_too_big(left, right if isinstance(right, tuple) else (right,))
    return False


def format_too_big(template: str, args: Iterable[Any]) -> bool:
    """A format string whose widths or precisions (digits in it, or numbers among the
    arguments for `*` and nested `{}` widths) ask for more than MAX_SIZE characters."""
    import re

    return any(int(digits) > MAX_SIZE for digits in re.findall(r"\d{7,}", template)) or any(
        isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_SIZE for a in args)


def oversized(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() > MAX_INT_BITS
    return isinstance(value, SIZED) and len(value) > MAX_SIZE


def builtin_too_big(name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    if name not in _RANGE_SAFE_BUILTINS and any(
            isinstance(a, range) and len(a) > MAX_ITERATIONS for a in args):
        return True  # sum(range(10 ** 13)), sorted(range(10 ** 9))
    if name == "pow" and len(args) == 2:  # with a modulus, pow is cheap
        return too_big("Power", args[0], args[1])
    if name == "numpy.linspace":
        num = kwargs.get("num", args[2] if len(args) > 2 else 50)
        return isinstance(num, int) and num > MAX_SIZE
    return False


def method_too_big(text: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """str methods whose result can dwarf their inputs."""
    if method == "format":
        return format_too_big(text, [*args, *kwargs.values()])
    if method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = text.count(args[0]) if args[0] else len(text) + 1
        return len(text) + count * len(args[1]) > MAX_SIZE
    if method == "join" and args and isinstance(args[0], (list, tuple)):
        return (sum(len(a) for a in args[0] if isinstance(a, str))
                + len(text) * len(args[0]) > MAX_SIZE)
    return False

class BudgetExceeded(BaseException):
    """The analysis ran out of steps or time. Not an Exception: the interpreter's
    `except Exception` around modelled helpers must not swallow it."""

class Budget:
    """Step accounting (a part of the Interpreter: `steps`, `deadline`)."""

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded("evaluation step budget exhausted")
        if (self.deadline is not None and not self.steps % 1024
                and time.process_time() > self.deadline):
            raise BudgetExceeded("time budget exhausted")

    def _charge(self, items: int) -> None:
        """Building `items` elements costs steps: the total memory constant folding can
        take stays bounded, however many values a loop builds."""
        if items >= VALUE_COST:
            self.steps += items // VALUE_COST
            self._tick()

    def _sized(self, value: Any, site: Site) -> Any:
        """`value` as computed, or Unknown when beyond the size limits (see MAX_SIZE)."""
        if oversized(value):
            return Unknown("a value too large to analyse", site)
        if isinstance(value, SIZED):
            self._charge(len(value))
        return value
