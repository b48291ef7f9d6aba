"""Untrusted text cannot drive the terminal or the GitHub Actions runner (issue 20).

File names and layer names reach every report. Here a tree of hostile names (ANSI/OSC
escapes, newlines followed by `::error ...`, a leading `::`, the legacy `##[` prefix, bidi
overrides, a name that is not UTF-8) and a layer named
`"bn\\n::error file=/etc/passwd,line=1::injected ..."` are checked by the real CLI, and the
bytes of stdout and stderr are read as a terminal and as GitHub's runner read them:

- no control character but LF (and no DEL, C1, line separator, bidi control, invalid
  UTF-8) in text, concise or github output, nor on stderr;
- GitHub's runner (actions/runner `ActionCommand.cs`): a line is a workflow command when it
  starts with `::` after leading whitespace (`TryParseV2`), and the legacy `##[name]` form
  is one anywhere in a line (`TryParse`). Every command line must be one of our
  annotations, one per finding, whose `file=` decodes (the runner's unescaping) to the
  path, and no line may hold `##[`;
- every file is checked and reported (a hostile name does not stop the run: exit 1);
- JSON and SARIF (schema-valid) carry the names losslessly.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest

from support import ROOT, SOFTMAX_NET, portlint, shown, write

HOSTILE_LAYER = ("bn\n::error file=/etc/passwd,line=1::injected \x1b]0;pwned\x07\x1b[2J "
                 "##[add-mask]secret \u202egnp.exe\r\n::stop-commands::tok")
# The layer name as the source writes it (escapes in a literal), and a comment with raw
# escape bytes on the same line, which the source excerpt quotes.
HOSTILE_NET = f"""\
from collections import OrderedDict

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(OrderedDict([
            ("fc", nn.Linear(16, 8)),
            ({HOSTILE_LAYER!r}, nn.Softmax()),  # \x1b]0;title\x07\x1b[31m red ##[group]g
        ]))

    def forward(self, x):
        return self.body(x)
"""
NAMES = ["::lead.py", " ::space.py", "a::warning::b.py", "evil\n::error file=x,line=1::inj.py",
         "esc\x1b]0;t\x07\x1b[2J.py", "bidi\u202ecod.py", "##[stop-commands]tok.py",
         "tab\tname.py", "cr\rname.py", "sep\u2028line.py", os.fsdecode(b"bad\xffbyte.py")]
SAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                  r"\u2066-\u2069]")
SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"  # the shared schema's copy


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    for name in NAMES:
        (root / name).write_text(SOFTMAX_NET, encoding="utf-8")
    write(root / "layer.py", HOSTILE_NET)
    return root


def run(tree: Path, *args: str):
    result = portlint("check", ".", "--no-cache", *args, cwd=tree, text=False)
    assert result.returncode == 1, shown(result)
    return result


def assert_safe(data: bytes, what: str) -> str:
    """Valid UTF-8 without a control character but LF, nor any `##[`."""
    text = data.decode("utf-8")  # strict: a raw byte of a non-UTF-8 name would fail here
    bad = SAFE.search(text)
    assert bad is None, f"{what}: raw {bad.group()!r} at {bad.start()}: {text[max(0, bad.start() - 80):bad.start() + 20]!r}"
    assert "##[" not in text, f"{what}: a legacy workflow command prefix\n{text}"
    return text


def runner_commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    """The workflow commands GitHub's runner finds in a step's output (TryParseV2)."""
    commands = []
    for line in re.split(r"\r\n|\r|\n", text):
        line = line.lstrip()
        if not line.startswith("::"):
            continue
        end = line.index("::", 2)
        info, data = line[2:end], line[end + 2:]
        name, _, props = info.partition(" ")
        properties = {}
        for prop in filter(None, props.split(",")):
            key, _, value = prop.partition("=")
            properties[key] = unescape_property(value)
        commands.append((name, properties, unescape_data(data)))
    return commands


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def expected_paths() -> set[str]:
    return {*NAMES, "layer.py"}


def test_every_hostile_file_is_checked_and_named_losslessly_in_json(hostile_tree):
    result = run(hostile_tree, "--format", "json")
    data = result.stdout.decode("ascii")  # json.dumps writes ASCII only
    findings = json.loads(data)["findings"]
    assert {f["location"]["path"] for f in findings} == expected_paths()
    messages = [f["message"] for f in findings if f["location"]["path"] == "layer.py"]
    assert len(messages) == 1 and HOSTILE_LAYER in messages[0]
    assert result.stderr == b""


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_terminal_reports_show_escapes_not_control_characters(hostile_tree, fmt):
    result = run(hostile_tree, "--format", fmt)
    text = assert_safe(result.stdout, f"stdout ({fmt})")
    assert result.stderr == b""
    assert runner_commands(text) == [], text
    lines = text.splitlines()
    assert any(line.startswith("./::lead.py:") for line in lines), text
    assert any(line.startswith("./ ::space.py:") for line in lines), text
    assert any(line.startswith(r"evil\n::error file=x,line=1::inj.py:") for line in lines), text
    assert any(line.startswith(r"esc\x1b]0;t\x07\x1b[2J.py:") for line in lines), text
    assert any(line.startswith(r"bad\xffbyte.py:") for line in lines), text
    assert any(line.startswith(r"#\x23[stop-commands]tok.py:") for line in lines), text
    # concise puts a message on one line by joining its whitespace, line breaks included
    newline, crlf = (r"\n", r"\r\n") if fmt == "text" else (" ", " ")
    assert rf"body.bn{newline}::error file=/etc/passwd,line=1::injected \x1b]0;pwned\x07" in text
    assert rf"\u202egnp.exe{crlf}::stop-commands::tok" in text
    findings = [line for line in lines if re.search(r": PTL801 ", line)]
    assert len(findings) == len(expected_paths()), text


def test_text_carets_stay_under_the_span_of_an_escaped_line(hostile_tree):
    text = assert_safe(run(hostile_tree, "--format", "text").stdout, "stdout")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("layer.py:"))
    source, carets = lines[at + 1], lines[at + 2]
    start = carets.index("^")
    assert source[start:start + len("nn.Softmax()")] == "nn.Softmax()", f"{source}\n{carets}"
    assert carets.count("^") == len("nn.Softmax()")
    assert r"# \x1b]0;title\x07\x1b[31m red #\x23[group]g" in source


def test_github_output_is_only_our_annotations(hostile_tree):
    # In two runs of at most 10 files: GitHub shows 10 annotations per level.
    names = sorted(expected_paths())
    commands, texts = [], []
    for part in (names[:6], names[6:]):
        result = portlint("check", *part, "--no-cache", "--format", "github", cwd=hostile_tree,
                          text=False)
        assert result.returncode == 1, shown(result)
        text = assert_safe(result.stdout, "stdout (github)")
        assert text.splitlines()[-1] == f"Found {len(part)} warnings.", text
        commands += runner_commands(text)
        texts.append(text)
    assert len(commands) == len(expected_paths()), texts
    files = set()
    for name, properties, data in commands:
        assert name == "warning", (name, properties)
        assert set(properties) == {"file", "line", "col", "endLine", "endColumn", "title"}
        assert properties["title"] == "PTL801 softmax-implicit-dim"
        assert data.startswith("Softmax `"), data
        files.add(properties["file"])
    # The runner decodes the path itself where the name holds only what it can carry
    # (`%`, `:`, `,`, CR, LF, other Unicode); other control characters are shown.
    visible = {"esc\x1b]0;t\x07\x1b[2J.py": r"esc\x1b]0;t\x07\x1b[2J.py",
               "##[stop-commands]tok.py": r"#\x23[stop-commands]tok.py",
               "bidi\u202ecod.py": r"bidi\u202ecod.py", "tab\tname.py": r"tab\tname.py", "sep\u2028line.py": r"sep\u2028line.py",
               os.fsdecode(b"bad\xffbyte.py"): r"bad\xffbyte.py"}
    assert files == {visible.get(name, name) for name in expected_paths()}
    layer = next(data for _, properties, data in commands if properties["file"] == "layer.py")
    assert "body.bn\n::error file=/etc/passwd,line=1::injected \\x1b]0;pwned\\x07" in layer


def test_sarif_stays_schema_valid_with_hostile_names(hostile_tree):
    result = run(hostile_tree, "--format", "sarif")
    document = json.loads(result.stdout.decode("ascii"))
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]}
    assert len(uris) == len(expected_paths()), uris
    assert "bad%FFbyte.py" in uris, uris  # the name's own byte, percent-encoded
    assert "evil%0A%3A%3Aerror%20file%3Dx%2Cline%3D1%3A%3Ainj.py" in uris \
        or "evil%0A::error%20file=x,line=1::inj.py" in uris, uris


def test_stderr_messages_are_one_escaped_line(tmp_path):
    name = "gone\x1b]0;t\x07\n::error file=/etc/passwd::x ##[add-mask]y.py"
    result = portlint("compare", name, "other.py", cwd=tmp_path, text=False)
    assert result.returncode == 2, shown(result)
    err = assert_safe(result.stderr, "stderr")
    assert err.count("\n") == 1 and err.startswith("portlint: "), err
    assert r"gone\x1b]0;t\x07\n::error file=/etc/passwd::x #\x23[add-mask]y.py" in err
    # check's per-file messages too: a port-of reference that names no file
    write(tmp_path / "port.py", "# portlint: port-of missing\u202e##[group].py\n" + SOFTMAX_NET)
    result = portlint("check", "port.py", cwd=tmp_path, text=False)
    assert result.returncode == 2, shown(result)
    err = assert_safe(result.stderr, "stderr")
    assert err.count("\n") == 1 and r"missing\u202e#\x23[group].py" in err, err


def test_a_port_in_a_file_named_with_colons_is_compared(tmp_path):
    """`a::warning::b.py` is a path, never parsed as `PATH::MODEL` text (it stopped the
    whole run with exit 2)."""
    origin = ROOT / "examples" / "seed" / "keras_model.py"
    port = tmp_path / "dir::x" / "a::warning::b.py"
    port.parent.mkdir()
    (port.parent / "k.py").write_bytes(origin.read_bytes())
    port.write_text("# portlint: port-of k.py\n" + (ROOT / "examples" / "seed" / "torch_model.py")
                    .read_text(encoding="utf-8"), encoding="utf-8")
    result = portlint("check", ".", "--format", "json", "--no-cache", cwd=tmp_path)
    assert result.returncode == 1, shown(result)
    findings = json.loads(result.stdout)["findings"]
    assert {f["code"] for f in findings} >= {"PTL101", "PTL102"}, findings
    assert {f["location"]["path"] for f in findings} == {"dir::x/a::warning::b.py"}
