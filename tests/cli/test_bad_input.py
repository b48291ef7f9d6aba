"""Hostile and broken inputs through the real CLI (issue 7, robustness): every case runs as
`python -m portlint compare ORIGIN FILE` and `python -m portlint check FILE` in a
subprocess and must end, within a time bound, in one of the outcomes SPEC.md allows:

- an input error: exit 2, nothing on stdout, exactly one line on stderr that names the
  file and the problem;
- a result (exit 0 or 1, a well-formed JSON report), with a PTL901 `unresolved-construct`
  finding where the case is code the analysis cannot follow.

Never a traceback, never "internal error", never a signal (libcst's native parser dies
with SIGSEGV on some inputs), never a hang. tests/cli/test_cli_errors.py already covers
`compare` on missing, directory, NUL-byte, latin-1 and empty files, the syntax-error line
and the choice of model; those are run here through `check` only.

Time bound. A clean run on a small file takes about 1 s (interpreter start, typer,
libcst); on the project's 2-CPU machines shared with other jobs it has taken up to 10 s.
`SMALL_BOUND` (30 s) leaves three times that, and the failures it exists for ran for
minutes or never ended (`1+1+...` 100,000 long: killed after 17 min; `10**10**9` in a
model: never finishes). Every run also gets `ADDRESS_SPACE` of address space (RLIMIT_AS),
so that an input that blows up memory fails fast and visibly instead of taking the
machine down: a normal run needs about 0.4 GB of address space (40 MB resident).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import Bounds, Run, portlint

SMALL_BOUND = 30.0  # seconds, see the module docstring
TIMEOUT = 60.0  # the subprocess is killed after this: a hang fails, it does not block
CPU_BOUND = 30.0  # seconds of CPU, also the child's RLIMIT_CPU; a small file needs ~1 s
# The 10 MB file: refused at once since files over 1 MiB are not parsed (commit f1eaddc);
# before that it took 135 s and 5.7 GB. Reading 10 MB and saying no must not take long;
# the bound also admits a full parse at libcst's ~2 µs/byte (20 s) plus analysis.
LARGE_BOUND = 60.0
# Models of 10,000 layers and more: CPU time bounds the analysis (30 s, twice what the
# 10,000-layer pair takes); the elapsed time only guards against a hang, since on a
# shared machine it has run at four times the CPU time.
LARGE_CPU = 30.0
LARGE_TIMEOUT = 150.0
ADDRESS_SPACE = 3 * 1024 ** 3  # bytes; the worst accepted file (1 MiB) peaks at ~0.7 GB

INTERNAL = re.compile(r"internal error|Traceback|RecursionError|MemoryError", re.IGNORECASE)


# --------------------------------------------------------------------------- running


def survived(run: Run) -> Run:
    """Whatever the outcome, the run ended by itself and said nothing of an internal error."""
    assert run.returncode >= 0, f"killed by signal {-run.returncode}\n{run.shown()}"
    assert not INTERNAL.search(run.stdout + run.stderr), run.shown()
    return run


def input_error(run: Run, name: str, *needles: str) -> str:
    """Exit 2, empty stdout, one stderr line naming `name` and matching every needle."""
    assert run.returncode == 2, run.shown()
    assert run.stdout == "", run.shown()
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("portlint: "), run.shown()
    assert name in lines[0], f"{name!r} not named\n{run.shown()}"
    for needle in needles:
        assert re.search(needle, lines[0], re.IGNORECASE), f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def result(run: Run) -> list[dict]:
    """Exit 0 or 1 and a JSON report (stderr may carry `portlint: warning:` lines)."""
    assert run.returncode in (0, 1), run.shown()
    for line in run.stderr.splitlines():
        assert line.startswith("portlint: warning: "), run.shown()
    return json.loads(run.stdout)["findings"] if run.stdout.strip() else []


def unresolved(findings: list[dict], pattern: str = "") -> list[dict]:
    return [f for f in findings if f["code"] == "PTL901" and re.search(pattern, f["message"])]


# --------------------------------------------------------------------------- the inputs

TORCH_NET = '''\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
'''

KERAS_NET = '''\
import keras
from keras import layers


def build():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, layers.Dense(2)(x))
'''


def with_statement(statement: str) -> str:
    """TORCH_NET with one more module-level statement after it."""
    return TORCH_NET + "\n\n" + statement + "\n"


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    pixels = zlib.compress(b"".join(b"\x00" + bytes(range(48)) for _ in range(16)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def ten_megabytes() -> str:
    """A module with one model and 10 MiB of generated assignments after it."""
    lines = [TORCH_NET, "\n"]
    size, index = sum(map(len, lines)), 0
    while size < 10 * 1024 * 1024:
        line = f"TABLE_{index} = {index * 7919 % 1000003}\n"
        lines.append(line)
        size += len(line)
        index += 1
    return "".join(lines)


RECURSION_WITHOUT_BASE = """\
import torch.nn as nn


def make_layers(width):
    return [nn.Linear(width, width), nn.ReLU()] + make_layers(width)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.body = nn.Sequential(*make_layers(8))
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.body(self.fc1(x)))
"""

RECURSION_UNKNOWN_BASE = """\
import torch.nn as nn

from settings import DEPTH  # not a file portlint can read: the base case is unknown


def make_layers(width, depth):
    if depth >= DEPTH:
        return []
    return [nn.Linear(width, width), nn.ReLU()] + make_layers(width, depth + 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.body = nn.Sequential(*make_layers(8, 0))
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.body(self.fc1(x)))
"""

MUTUAL_RECURSION = """\
import torch.nn as nn


def linear_then(width, n):
    return [nn.Linear(width, width)] + relu_then(width, n - 1)


def relu_then(width, n):
    return [nn.ReLU()] + linear_then(width, n - 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.body = nn.Sequential(*linear_then(8, 4))
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.body(self.fc1(x)))
"""

BRANCHING_RECURSION = """\
import torch.nn as nn


def grow(n):
    return grow(n - 1) + grow(n - 2) + [nn.Linear(8, 8)]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.body = nn.Sequential(*grow(40))
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.body(self.fc1(x)))
"""

MODULE_BUILDS_ITSELF = TORCH_NET.replace(
    "        self.fc2 = nn.Linear(8, 2)\n",
    "        self.fc2 = nn.Linear(8, 2)\n        self.twin = Net()\n")

FORWARD_CALLS_ITSELF = TORCH_NET.replace(
    "        return self.fc2(self.act(self.fc1(x)))",
    "        return self.forward(self.fc2(self.act(self.fc1(x))))")

KERAS_RECURSION = """\
import keras
from keras import layers


def block(x, depth):
    x = layers.Dense(8, activation="relu")(x)
    return block(x, depth + 1)


def build():
    inputs = keras.Input(shape=(16,))
    return keras.Model(inputs, layers.Dense(2)(block(inputs, 0)))
"""


def diamond_hierarchy(depth: int) -> str:
    """A_i and B_i both derive from A_{i-1} and B_{i-1}: a valid MRO, 2**depth paths."""
    lines = ["import torch.nn as nn", "", "", "class A0(nn.Module):", "    pass", "", "",
             "class B0(nn.Module):", "    pass", ""]
    for i in range(1, depth + 1):
        lines += ["", f"class A{i}(A{i - 1}, B{i - 1}):", "    pass", "", "",
                  f"class B{i}(A{i - 1}, B{i - 1}):", "    pass", ""]
    net = TORCH_NET.replace("import torch.nn as nn\n", "").replace("(nn.Module)", f"(A{depth})")
    return "\n".join(lines) + net


IMPORT_CYCLE_ABSOLUTE = {
    "cyc_a.py": TORCH_NET.replace("import torch.nn as nn\n", "import torch.nn as nn\n\nimport cyc_b\n")
                         .replace("nn.Linear(8, 2)", "cyc_b.head(8)"),
    "cyc_b.py": "import torch.nn as nn\n\nimport cyc_a\nfrom cyc_a import Net\n\n\n"
                "def head(width):\n    return nn.Linear(width, 2)\n",
}

IMPORT_CYCLE_PACKAGE = {
    "pkg/__init__.py": "from .a import Net\nfrom . import b\nimport pkg.a\n",
    "pkg/a.py": TORCH_NET.replace(
        "import torch.nn as nn\n",
        "import torch.nn as nn\n\nimport pkg\nfrom . import b\nfrom .b import head\n"
        "from pkg.b import head as head2\n").replace("nn.Linear(8, 2)", "b.head(8)"),
    "pkg/b.py": "import torch.nn as nn\n\nfrom . import a\nfrom .a import *\nfrom .a import Net\n"
                "import pkg\n\n\ndef head(width):\n    return nn.Linear(width, 2)\n",
}

SELF_IMPORT = TORCH_NET.replace("import torch.nn as nn\n",
                                "import torch.nn as nn\n\nimport selfish\nfrom selfish import Net as Again\n")

FACTORY = TORCH_NET.replace("    def __init__(self):\n", "    def __init__(self, width=8):\n") \
    .replace("nn.Linear(16, 8)", "nn.Linear(16, width)").replace("nn.Linear(8, 2)", "nn.Linear(width, 2)") \
    + "\n\ndef make(width=8):\n    return Net(width)\n"

BOMB_TEMPLATE = """\
import math

import numpy
import torch.nn as nn


def doubled(n):
    items = [0]
    for _ in range(n):
        items = items + items
    return items


def extended(n):
    items = [0]
    for _ in range(n):
        items.extend(items)
    return items


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, EXPRESSION)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
"""


WIDE_KERAS = """\
import keras
from keras import layers


def build():
    dense = [layers.Dense(4, activation="relu") for _ in range(5_000)]
    return keras.Sequential([keras.Input(shape=(4,))] + dense)
"""

WIDE_TORCH = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*[m for _ in range(5_000) for m in (nn.Linear(4, 4), nn.ReLU())])

    def forward(self, x):
        return self.body(x)
"""

MANY_MODULES = WIDE_TORCH.replace(
    "range(5_000) for m in (nn.Linear(4, 4), nn.ReLU())",
    "range(10_000) for m in (nn.Linear(4, 4), nn.ReLU(), nn.Dropout(0.1))")

NORMS = """\
import torch.nn as nn


def make():
    return nn.Sequential(*[nn.LayerNorm(4) for _ in range(6_000)])
"""


@dataclass
class Case:
    """One bad input: `files` (name -> text or bytes) written to a fresh directory;
    `target` is the reference given to compare (after the origin) and the path given to
    check. `compare`/`check` say what must happen: ("error", needles...) an input error
    naming the target's file; ("result", pattern) a result with a PTL901 whose message
    matches pattern (None: any result); ("either", needles...) one of the two."""

    files: dict[str, str | bytes]
    target: str
    compare: tuple | None
    check: tuple | None = None
    origin: str = "keras.py"  # compare's first argument (KERAS_NET, written for every case)
    bound: float = SMALL_BOUND
    timeout: float = TIMEOUT
    cpu_bound: float = 30.0  # CPU_BOUND
    xfail: dict[str, str] = field(default_factory=dict)  # command -> reason

    @property
    def bounds(self) -> Bounds:
        return Bounds(self.bound, self.cpu_bound, ADDRESS_SPACE)


NOT_FOLLOWED = r"call depth limit|not followed|not known statically|budget"

# Where Python itself refuses a file (more than 200 nested brackets: "too many nested
# parentheses"; an expression too deep for its compiler), an input error is right; where
# libcst reads it anyway, analysing it is right too: either outcome, in bounded time.
TOO_DEEP = r"syntax error|too deep|nesting|too complex|budget"
NESTED_BRACKETS = r"deep\.py:\d+:\d+: syntax error: too many nested parentheses"

CASES: dict[str, Case] = {
    # ---- bytes that are not Python text
    "syntax_error": Case({"bad.py": "import torch.nn as nn\n\nclass Net(nn.Module:\n    pass\n"},
                         "bad.py", ("error", r"bad\.py:3:\d+: syntax error"),
                         ("error", r"bad\.py:3:\d+: syntax error")),
    # Bytes that are not text: `compare` refuses them; `check` reports the file as not
    # checked (PTL901) and goes on with the others (issue 20).
    "nul_bytes": Case({"bad.py": b"import torch.nn as nn\n\x00\nclass Net(nn.Module): pass\n"},
                      "bad.py", None, ("result", r"binary|NUL")),
    "latin1": Case({"bad.py": "import torch.nn as nn\n# f\u00fcr M\u00fcnchen\n".encode("latin-1")},
                   "bad.py", None, ("result", r"UTF-?8")),
    # PEP 263 makes this valid Python, and portlint reads it as CPython does.
    "latin1_with_coding_cookie": Case(
        {"bad.py": ("# -*- coding: latin-1 -*-\n" + TORCH_NET + "# f\u00fcr M\u00fcnchen\n").encode("latin-1")},
        "bad.py", ("result", None), ("result", None)),
    "utf16": Case({"bad.py": TORCH_NET.encode("utf-16")}, "bad.py",
                  ("error", r"binary|NUL|UTF-?8"), ("result", r"binary|NUL|UTF-?8")),
    "png_named_py": Case({"bad.py": png_bytes()}, "bad.py",
                         ("error", r"binary|NUL|UTF-?8"), ("result", r"binary|NUL|UTF-?8")),
    "empty": Case({"bad.py": ""}, "bad.py", None, ("result", None)),
    "only_comments": Case({"bad.py": "# import torch\n# class Net(nn.Module): ...\n"}, "bad.py",
                          ("error", r"no (keras or pytorch )?model"), ("result", None)),
    # ---- odd but valid text: analysed like any other file
    "utf8_bom_crlf_no_final_newline": Case(
        {"bad.py": "\ufeff" + TORCH_NET.replace("\n", "\r\n").rstrip()}, "bad.py",
        ("result", None), ("result", None)),
    "form_feeds_and_tabs": Case(
        {"bad.py": "\f" + TORCH_NET.replace("        return", "\f\t\treturn").replace(
            "    def forward", "\f    def forward")}, "bad.py", ("either", r"syntax|indent"),
        ("either", r"syntax|indent")),
    # ---- paths that are not files
    "directory_named_py": Case({"model.py/inner.txt": "not python\n"}, "model.py",
                               ("error", r"directory"), ("result", None)),
    "missing_file_with_model": Case({}, "missing.py::Net", ("error", r"no such file"), None),
    # ---- size
    "ten_megabytes": Case({"big.py": ten_megabytes()}, "big.py",
                          ("either", r"too large|budget"), ("either", r"too large|budget"),
                          bound=LARGE_BOUND, timeout=LARGE_TIMEOUT),
    # One 300 KB statement of data (torch's generated annotated_fn_args.py is a 516 KB
    # dict): libcst would need ~100 MB to parse it, so the file is not analysed; a class or
    # function of any size still is.
    "data_statement_of_300_kb": Case(
        {"data.py": "import torch\nTABLE = {\n" + "".join(
            f"    'name_{i:05d}': [{i}, {i + 1}, 'value_{i:05d}'],\n" for i in range(7_000))
         + "}\n" + TORCH_NET}, "data.py",
        ("error", r"data\.py:2: a statement too large"), ("result", r"statement too large")),
    # A few lines that build a huge model. 5,000 Dense+relu against 5,000 Linear, ReLU: the
    # full alignment table took 147 s of CPU and 4.8 GB; its band takes ~15 s of CPU.
    "models_with_10000_layers": Case(
        {"wide_keras.py": WIDE_KERAS, "wide_torch.py": WIDE_TORCH}, "wide_torch.py",
        ("result", None), None, origin="wide_keras.py", bound=LARGE_TIMEOUT,
        timeout=LARGE_TIMEOUT, cpu_bound=LARGE_CPU),
    # 30,000 torch modules: about 80 s of CPU, all but a few in walking the module tree.
    "torch_model_with_30000_modules": Case(
        {"modules.py": MANY_MODULES}, "modules.py", None, ("result", None),
        bound=LARGE_TIMEOUT, timeout=LARGE_TIMEOUT, cpu_bound=LARGE_CPU),
    # 6,000 Dense against 6,000 LayerNorm: nothing pairs, so 12,000 missing-layer
    # findings, each placed after its neighbour on the other side.
    "models_with_nothing_in_common": Case(
        {"wide_keras.py": WIDE_KERAS.replace("5_000", "6_000"), "norms.py": NORMS}, "norms.py",
        ("result", None), None, origin="wide_keras.py", bound=LARGE_TIMEOUT,
        timeout=LARGE_TIMEOUT, cpu_bound=LARGE_CPU),
    # ---- depth
    "parentheses_1000_deep": Case({"deep.py": with_statement("X = " + "(" * 1000 + "1" + ")" * 1000)},
                                  "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    "sum_100000_terms": Case({"deep.py": with_statement("X = " + "+".join(["1"] * 100_000))},
                             "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    # libcst's parser is super-linear on chains (3,000 terms took 20 s), so deeper than
    # 1,000 levels is refused before it parses; 300 terms is read as usual.
    "sum_3000_terms": Case({"deep.py": with_statement("X = " + "+".join(["1"] * 3_000))},
                           "deep.py", ("error", r"too deep"), ("error", r"too deep")),
    "sum_300_terms": Case({"deep.py": with_statement("X = " + "+".join(["1"] * 300))},
                          "deep.py", ("result", None), ("result", None)),
    "subscripts_2900_deep": Case({"deep.py": with_statement("X = a" + "[0]" * 2_900)},
                                 "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    "and_10000_terms": Case({"deep.py": with_statement("X = " + " and ".join(["1"] * 10_000))},
                            "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    "lists_1000_deep": Case({"deep.py": with_statement("X = " + "[" * 1000 + "1" + "]" * 1000)},
                            "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    "lists_150_deep": Case({"deep.py": with_statement("X = " + "[" * 150 + "1" + "]" * 150)},
                           "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    # Over CPython's tokenizer limits (200 nested brackets, 99 indentation levels): a
    # syntax error at its place, found by a linear scan before libcst, whose parser died
    # with SIGSEGV from ~1,300 brackets (issue 20).
    "parentheses_1500_deep": Case(
        {"deep.py": with_statement("X = " + "(" * 1500 + "1" + ")" * 1500)}, "deep.py",
        ("error", NESTED_BRACKETS), ("error", NESTED_BRACKETS)),
    "brackets_1500_deep": Case(
        {"deep.py": with_statement("X = " + "[" * 1500 + "1" + "]" * 1500)}, "deep.py",
        ("error", NESTED_BRACKETS), ("error", NESTED_BRACKETS)),
    "parentheses_201_deep": Case(
        {"deep.py": with_statement("X = " + "(" * 201 + "1" + ")" * 201)}, "deep.py",
        ("error", NESTED_BRACKETS), ("error", NESTED_BRACKETS)),
    "parentheses_200_deep_in_strings_and_comments": Case(
        {"deep.py": with_statement("X = " + "(" * 200 + "1" + ")" * 200 + "  # " + "(" * 300
                                   + "\nY = '" + "[" * 300 + "' \"\"\"" + "{" * 300 + "\"\"\"")},
        "deep.py", ("result", None), ("result", None)),
    "sequential_900_deep": Case({"deep.py": TORCH_NET.replace(
        "nn.Linear(8, 2)", "nn.Sequential(" * 900 + "nn.Linear(8, 2)" + ")" * 900)},
        "deep.py", ("error", NESTED_BRACKETS), ("error", NESTED_BRACKETS)),
    "indentation_100_levels": Case(
        {"deep.py": with_statement("".join(" " * i + "if X:\n" for i in range(100)) + " " * 100 + "pass")},
        "deep.py", ("error", r"deep\.py:\d+:1: syntax error: too many levels of indentation"),
        ("error", r"too many levels of indentation")),
    "indentation_99_levels": Case(
        {"deep.py": with_statement("".join(" " * i + "if X:\n" for i in range(99)) + " " * 99 + "pass")},
        "deep.py", ("result", None), ("result", None)),
    # The arguments of a model reference (`PATH::NAME(ARGS)`, also from `# portlint:
    # port-of`) are parsed by libcst too: the same limits before it.
    "model_arguments_1500_deep": Case(
        {"deep.py": TORCH_NET}, "deep.py::Net(" + "(" * 1500 + "1" + ")" * 1500 + ")",
        ("error", r"arguments are not valid Python.*too many nested parentheses"), None),
    "port_of_arguments_1500_deep": Case(
        {"deep.py": "# portlint: port-of deep.py::Net(" + "(" * 1500 + "1" + ")" * 1500 + ")\n"
         + TORCH_NET}, "deep.py", None,
        ("error", r"deep\.py:1:1: .*too many nested parentheses")),
    # A chain in a file CPython rejects (so that its tree cannot measure it) went to libcst
    # whole: `a.b.c...` 20,000 long took a minute and died with SIGSEGV, `1+1+...` hung.
    # The text bounds the chain; CPython's own error wins where it comes first.
    "attribute_chain_before_a_syntax_error": Case(
        {"deep.py": with_statement("X = a" + ".b" * 20_000 + "\ndef f(:\n    pass")},
        "deep.py", ("error", r"deep\.py:\d+:\d+: expression nesting too deep"),
        ("error", r"deep\.py:\d+:\d+: expression nesting too deep")),
    "sum_chain_before_a_syntax_error": Case(
        {"deep.py": with_statement("X = " + "+".join(["1"] * 20_000) + "\ndef f(:\n    pass")},
        "deep.py", ("error", r"expression nesting too deep"), ("error", r"expression nesting too deep")),
    "syntax_error_before_a_call_chain": Case(
        {"deep.py": with_statement("def f(:\n    pass\nX = f" + "()" * 20_000)},
        "deep.py", ("error", r"deep\.py:\d+:\d+: syntax error: invalid syntax"),
        ("error", r"syntax error: invalid syntax")),
    # Adjacent literals nest in libcst (one level each) where CPython's tree has one node:
    # 5,000 made libcst report a bogus syntax error, 2,000 overflowed its code generator.
    "adjacent_strings_5000": Case(
        {"deep.py": with_statement("X = " + " ".join(['"a"'] * 5_000))}, "deep.py",
        ("error", r"adjacent string literals"), ("error", r"adjacent string literals")),
    # Built by a loop, so no parser is involved: only the interpreter's own recursion.
    "list_nested_by_a_loop": Case({"deep.py": TORCH_NET.replace(
        "        self.fc2 = nn.Linear(8, 2)",
        "        deep = []\n        for _ in range(5000):\n            deep = [deep]\n"
        "        self.fc2 = nn.Linear(8, 2 if deep else 3)")},
        "deep.py", ("either", TOO_DEEP), ("either", TOO_DEEP)),
    # ---- recursion the interpreter cannot decide
    "recursion_without_base_case": Case({"rec.py": RECURSION_WITHOUT_BASE}, "rec.py",
                                        ("result", r"call depth limit"), ("result", None)),
    "recursion_with_unknown_base_case": Case({"rec.py": RECURSION_UNKNOWN_BASE}, "rec.py",
                                             ("result", r"not known statically|not defined|"
                                                        r"does not analyse"), ("result", None)),
    "mutual_recursion": Case({"rec.py": MUTUAL_RECURSION}, "rec.py",
                             ("result", r"call depth limit"), ("result", None)),
    "branching_recursion": Case({"rec.py": BRANCHING_RECURSION}, "rec.py",
                                ("either", NOT_FOLLOWED), ("either", NOT_FOLLOWED)),
    "module_that_builds_itself": Case({"rec.py": MODULE_BUILDS_ITSELF}, "rec.py",
                                      ("either", r"Net|call depth|recursion"), ("result", None)),
    "forward_that_calls_itself": Case({"rec.py": FORWARD_CALLS_ITSELF}, "rec.py",
                                      ("either", r"Net|call depth|recursion"), ("result", None)),
    "keras_block_that_calls_itself": Case({"rec.py": KERAS_RECURSION}, "rec.py",
                                          ("either", r"build|call depth|recursion"),
                                          ("result", None), origin="torch.py"),
    # Python itself gives up on this class hierarchy in no time: 2**25 paths to the base.
    "diamond_class_hierarchy_25_deep": Case({"rec.py": diamond_hierarchy(25)}, "rec.py::Net",
                                            ("result", None)),
    "diamond_class_hierarchy_25_deep_whole_file": Case({"rec.py": diamond_hierarchy(25)}, "rec.py",
                                                       None, ("result", None)),
    # ---- import cycles: each module is loaded once, a cycle ends where it closes
    "import_cycle_absolute": Case(IMPORT_CYCLE_ABSOLUTE, "cyc_a.py", ("result", None),
                                  ("result", None)),
    "import_cycle_relative_in_package": Case(IMPORT_CYCLE_PACKAGE, "pkg/a.py", ("result", None),
                                             ("result", None)),
    "import_cycle_whole_package": Case(IMPORT_CYCLE_PACKAGE, "pkg", None, ("result", None)),
    "module_importing_itself": Case({"selfish.py": SELF_IMPORT}, "selfish.py", ("result", None),
                                    ("result", None)),
    # `Net` is a torch model class bound in b.py by the cyclic import: it should be
    # compared like a class defined there (an imported factory function already is).
    "import_cycle_model_named_in_partner": Case(
        IMPORT_CYCLE_PACKAGE, "pkg/b.py::Net", ("result", None), None),
    # ---- ::MODEL references
    "model_name_unknown_with_arguments": Case({"net.py": FACTORY}, "net.py::Nope(3)",
                                              ("error", r"Nope", r"Net")),
    "model_arguments_not_python": Case({"net.py": FACTORY}, "net.py::Net(1,,2)",
                                       ("error", r"not valid Python")),
    "model_arguments_unclosed": Case({"net.py": FACTORY}, "net.py::Net(8", ("error", r"Net\(8")),
    "model_arguments_two_calls": Case({"net.py": FACTORY}, "net.py::Net(8)(9)",
                                      ("error", r"Net")),
    "model_argument_unknown_keyword": Case({"net.py": FACTORY}, "net.py::Net(widht=4)",
                                           ("error", r"widht")),
    "model_too_many_arguments": Case({"net.py": FACTORY}, "net.py::Net(4, 8, 2)",
                                     ("error", r"Net", r"argument")),
    "model_factory_unknown_keyword": Case({"net.py": FACTORY}, "net.py::make(size=4)",
                                          ("error", r"size")),
    "model_argument_undefined_name": Case({"net.py": FACTORY}, "net.py::Net(width=WIDTH)",
                                          ("result", r"WIDTH")),
    "model_is_not_a_model": Case({"net.py": FACTORY}, "net.py::nn", ("error", r"not a model")),
    "model_argument_list_bomb": Case({"net.py": FACTORY}, "net.py::Net(width=len([1] * 10**10))",
                                     ("result", r"")),
    "model_argument_power_bomb": Case({"net.py": FACTORY}, "net.py::Net(width=10**10**9 % 7)",
                                      ("result", r"")),
}

# ---- constant folding the interpreter must refuse: each feeds a layer's size; Python
# would compute for minutes or allocate gigabytes, so static analysis cannot either.
BOMBS = {
    "power": "10 ** 10 ** 9 % 7",
    "builtin_pow": "pow(10, 10 ** 9) % 7",
    "list_repetition": "len([0] * 10 ** 10)",
    "string_repetition": "len('x' * 10 ** 10)",
    "left_shift": "(1 << 10 ** 12) % 7",
    "sum_of_a_huge_range": "sum(range(10 ** 13)) % 7",
    "sorted_huge_range": "len(sorted(range(10 ** 9)))",
    "format_width": "len('{:>9999999999}'.format(1))",
    "percent_width": "len('%9999999999d' % 1)",
    "integer_literal_5000_digits": "1" + "0" * 5000,
    "integer_beyond_str_limit": "10 ** 5000",
    "linspace": "len(numpy.linspace(0, 1, 10 ** 12))",
    "doubling_loop": "len(doubled(80))",
    "extend_loop": "len(extended(80))",
    "product_of_a_range": "math.prod(range(1, 20000)) % 7",
}
for _name, _expression in BOMBS.items():
    # A list grown in place cannot become "unknown": the analysis stops (exit 2) instead.
    _compare = ("either", r"budget") if _name == "extend_loop" else ("result", r"")
    CASES[f"bomb_{_name}"] = Case({"bomb.py": BOMB_TEMPLATE.replace("EXPRESSION", _expression)},
                                  "bomb.py", _compare, ("result", None))


def _write(directory: Path, case: Case) -> None:
    (directory / "keras.py").write_text(KERAS_NET, encoding="utf-8")
    (directory / "torch.py").write_text(TORCH_NET, encoding="utf-8")
    for name, content in case.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def _expect(run: Run, expectation: tuple, name: str) -> None:
    kind, *rest = expectation
    if kind == "error":
        input_error(run, name, *rest)
    elif kind == "result":
        found = result(run)
        if rest and rest[0] is not None:
            assert unresolved(found, rest[0]), run.shown()
    elif run.returncode == 2:
        input_error(run, name, *rest)
    else:
        result(run)


def _params(command: str) -> list:
    out = []
    for name, case in CASES.items():
        if getattr(case, command) is None:
            continue
        marks = ([pytest.mark.xfail(strict=True, reason=case.xfail[command])]
                 if command in case.xfail else [])
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("name", _params("compare"))
def test_compare(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    _write(tmp_path, case)
    run = survived(portlint("compare", case.origin, case.target, "--format", "json", cwd=tmp_path,
                            timeout=case.timeout, bounds=case.bounds))
    _expect(run, case.compare, case.target.partition("::")[0])


@pytest.mark.parametrize("name", _params("check"))
def test_check(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    _write(tmp_path, case)
    run = survived(portlint("check", case.target, "--format", "json", cwd=tmp_path,
                            timeout=case.timeout, bounds=case.bounds))
    _expect(run, case.check, case.target)


# Found by the fuzz lane: libcst's tokenizer accepts U+13D3D inside a name, CPython does not,
# and libcst's nodes then failed validation deep in the analysis ("internal error").
_NOT_AN_IDENTIFIER = """\
import torch.nn as nn


class Port(nn.Module):
    def __init__(self):
        super().__init_\U00013d3d_()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.parametrize("command", ["compare", "check"])
def test_a_character_python_refuses_in_a_name_is_a_syntax_error(command: str, tmp_path: Path) -> None:
    port = tmp_path / "port.py"
    port.write_text(_NOT_AN_IDENTIFIER, encoding="utf-8")
    args = ["compare", str(port), str(port)] if command == "compare" else ["check", str(port)]
    run = portlint(*args, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "port.py:6:" in run.stderr and "syntax error: invalid" in run.stderr
    assert "internal error" not in run.stderr
