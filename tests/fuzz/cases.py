"""What the fuzz lane feeds portlint, as hypothesis strategies: the project's own model
files (tests/fixtures, examples) mutated (tokens deleted or repeated, spans wrapped in
brackets hundreds deep, random bytes, control characters and other odd code points put
into names, strings and layer names, other encodings, truncation), and generated Keras
and torch models whose layer names carry such characters. Each case is run through
`check` in one output format, or through `compare` against the seed model of the other
framework (both front ends, the alignment and the pair rules)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

from runner import Case

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("text", "concise", "json", "sarif", "github", "rdjson")
# Characters that break terminals, logs and parsers when passed through raw.
ODD_CHARACTERS = ("\x00", "\x1b", "\x07", "\r", "\x08", "\x0b", "\x0c", "\x7f", "\x85",
                  "\x9b", "\u2028", "\u2029", "\ufeff", "\u202e", "\x1b[31m", "\x1b]0;t\x07",
                  "\n::error file=x,line=1::injected\n", "\ud800")
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@lru_cache(maxsize=1)
def seeds() -> tuple[tuple[str, str], ...]:
    """(file name, text) of every model file in tests/fixtures and examples."""
    files = sorted([*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "examples").rglob("*.py")])
    return tuple((path.name, path.read_text(encoding="utf-8")) for path in files)


def framework_of(text: str) -> str:
    return "keras" if re.search(r"\b(keras|tensorflow)\b", text) else "torch"


# --------------------------------------------------------------------------- mutations


@st.composite
def _delete_or_repeat_tokens(draw, text: str) -> str:
    tokens = _TOKEN.findall(text)
    for _ in range(draw(st.integers(1, 6))):
        if not tokens:
            break
        at = draw(st.integers(0, len(tokens) - 1))
        if draw(st.booleans()):
            del tokens[at]
        else:
            tokens.insert(at, tokens[at] * draw(st.integers(1, 3)))
    return "".join(tokens)


@st.composite
def _nest_brackets(draw, text: str) -> str:
    """A span wrapped in brackets: near CPython's limit of 200, or far beyond it."""
    depth = draw(st.sampled_from([1, 50, 199, 200, 201, 250, 1000, 1500, 3000]))
    opener = draw(st.sampled_from(["(", "[", "{", "f(", "nn.Sequential(", "layers.Dense(4)("]))
    closer = {"(": ")", "[": "]", "{": "}"}.get(opener[-1], ")")
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return text[:start] + opener * depth + text[start:end] + closer * depth + text[end:]


@st.composite
def _insert_odd(draw, text: str) -> str:
    """Odd characters in names, strings and layer names (after a quote or inside a word)."""
    places = [m.end() for m in re.finditer(r"['\"]|\w", text)] or [0]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.sampled_from(places))
        odd = draw(st.sampled_from(ODD_CHARACTERS) | st.characters(max_codepoint=0x10FFFF))
        text = text[:at] + odd + text[at:]
    return text


@st.composite
def _name_layers_oddly(draw, text: str) -> str:
    """`name="..."` on a Keras layer, attribute names on torch modules, with odd text."""
    odd = draw(st.sampled_from(ODD_CHARACTERS))
    text = re.sub(r"\bDense\((\d+)", lambda m: f"Dense({m.group(1)}, name='d{odd!s}x'", text, count=2)
    return re.sub(r"self\.(\w+) = nn\.", lambda m: f"self.{m.group(1)}{odd} = nn.", text, count=1)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


@st.composite
def mutated_file(draw) -> tuple[str, bytes]:
    """(file name, bytes): one seed file, mutated one to three times."""
    name, text = draw(st.sampled_from(seeds()))
    mutations = [_delete_or_repeat_tokens, _nest_brackets, _insert_odd, _name_layers_oddly]
    for _ in range(draw(st.integers(1, 3))):
        text = draw(draw(st.sampled_from(mutations))(text))
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = _encode(text, encoding)
    cut = draw(st.sampled_from([None] * 6 + ["truncate", "bytes"]))
    if cut == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif cut == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    return name, data


# --------------------------------------------------------------------------- generated models

_NAME = st.lists(st.sampled_from("abcxyz_") | st.sampled_from(ODD_CHARACTERS),
                 min_size=1, max_size=6).map("".join)
_KERAS_LAYERS = ("Dense({n})", "Dense({n}, activation='relu')", "BatchNormalization(momentum=0.9)",
                 "Dropout(0.5)", "ReLU()", "Activation('softmax')", "LayerNormalization()")
_TORCH_LAYERS = ("nn.Linear({n}, {n})", "nn.ReLU()", "nn.BatchNorm1d({n})", "nn.Dropout(0.5)",
                 "nn.LayerNorm({n})", "nn.Softmax(dim=-1)")


@st.composite
def generated_model(draw) -> tuple[str, bytes]:
    n = draw(st.sampled_from([1, 4, 16]))
    count = draw(st.integers(1, 12))
    if draw(st.booleans()):
        layers = []
        for _ in range(count):
            layer = draw(st.sampled_from(_KERAS_LAYERS)).format(n=n)
            name = draw(st.none() | _NAME)
            if name is not None:
                layer = layer[:-1] + ("" if layer.endswith("()") else ", ") + f"name={name!r})"
            layers.append(f"    x = keras.layers.{layer}(x)\n")
        text = ("import keras\n\n\ndef build():\n    inputs = keras.Input(shape=(%d,))\n"
                "    x = inputs\n%s    return keras.Model(inputs, x)\n") % (n, "".join(layers))
        return "gen_keras.py", text.encode("utf-8", "surrogatepass")
    names = [draw(_NAME.filter(str.isidentifier) | st.just("layer")) for _ in range(count)]
    body = "".join(f"        self.{name}{i} = {draw(st.sampled_from(_TORCH_LAYERS)).format(n=n)}\n"
                   for i, name in enumerate(names))
    calls = "".join(f"        x = self.{name}{i}(x)\n" for i, name in enumerate(names))
    text = ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n%s\n    def forward(self, x):\n%s        return x\n"
            ) % (body, calls)
    return "gen_torch.py", text.encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- commands

_PARTNERS = {"keras": ("partner_torch.py", ROOT / "examples" / "seed" / "torch_model.py"),
             "torch": ("partner_keras.py", ROOT / "examples" / "seed" / "keras_model.py")}


@st.composite
def case(draw) -> Case:
    name, data = draw(st.one_of(mutated_file(), generated_model()))
    file_name = draw(st.sampled_from([name, "model.py", "odd\x1bname.py", "a::warning::b.py"]))
    fmt = draw(st.sampled_from(FORMATS))
    text = data.decode("utf-8", "replace")
    if draw(st.booleans()):
        return Case({file_name: data}, ["check", "--no-cache", "-j", "1", "--format", fmt,
                                        f"{{dir}}/{file_name}"], f"check {name}")
    partner_name, partner = _PARTNERS[framework_of(text)]
    files = {file_name: data, partner_name: partner.read_bytes()}
    return Case(files, ["compare", f"{{dir}}/{partner_name}", f"{{dir}}/{file_name}",
                        "--format", fmt], f"compare {name}")
