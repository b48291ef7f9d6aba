"""`--format json` is a contract (SPEC "JSON output", schema portlint/1): exact keys and
types, 1-based in-bounds positions, fixes that apply cleanly, deterministic bytes, and the
same shape with the arguments swapped (findings then located in the Keras file)."""

from __future__ import annotations

import ast
import json
import re
from functools import lru_cache

import pytest

from support import ROOT, portlint

KERAS = "examples/seed/keras_model.py"
TORCH = "examples/seed/torch_model.py"
ORDERS = {"forward": (KERAS, TORCH), "swapped": (TORCH, KERAS)}

TOP_KEYS = {"schema", "findings", "pairs"}
FINDING_KEYS = {"code", "rule", "severity", "message", "location", "related", "fix"}
LOCATION_KEYS = {"path", "line", "column", "end_line", "end_column"}
RELATED_KEYS = {"path", "line", "column", "message"}
FIX_KEYS = {"applicability", "edits"}
EDIT_KEYS = {"path", "line", "column", "end_line", "end_column", "content"}
SEVERITIES = {"info", "warning", "error"}


@lru_cache(maxsize=None)
def run_json(order: str, hash_seed: str | None = None) -> tuple[int, bytes, bytes]:
    env = {"PYTHONHASHSEED": hash_seed} if hash_seed is not None else None
    result = portlint("compare", *ORDERS[order], "--format", "json", env=env, text=False)
    return result.returncode, result.stdout, result.stderr


def document(order: str) -> dict:
    code, stdout, stderr = run_json(order)
    assert code == 1, stderr.decode(errors="replace")
    return json.loads(stdout.decode("utf-8"))


@lru_cache(maxsize=None)
def rule_table() -> dict[str, tuple[str, str]]:
    """name -> (code, default severity), from `portlint rule`."""
    result = portlint("rule", text=False)
    assert result.returncode == 0, result.stderr
    table = {}
    for line in result.stdout.decode().splitlines():
        match = re.match(r"(PTL\d{3})\s+(\S+)\s+(info|warning|error)\b", line)
        if match:
            table[match.group(2)] = (match.group(1), match.group(3))
    assert table, result.stdout
    return table


def source_lines(path: str) -> list[str]:
    return (ROOT / path).read_text(encoding="utf-8").splitlines()


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def assert_position(path: str, line: int, column: int) -> None:
    lines = source_lines(path)
    assert is_int(line) and is_int(column)
    assert 1 <= line <= len(lines), (path, line)
    assert 1 <= column <= len(lines[line - 1]) + 1, (path, line, column)


def assert_span(span: dict) -> None:
    assert set(span) == LOCATION_KEYS, span
    assert isinstance(span["path"], str)
    assert_position(span["path"], span["line"], span["column"])
    assert_position(span["path"], span["end_line"], span["end_column"])
    assert (span["line"], span["column"]) <= (span["end_line"], span["end_column"]), span


# --------------------------------------------------------------------------- the shape


@pytest.mark.parametrize("order", ORDERS)
def test_stdout_is_exactly_one_json_object(order):
    code, stdout, stderr = run_json(order)
    assert code == 1
    assert stderr == b"", stderr
    text = stdout.decode("utf-8")
    value, end = json.JSONDecoder().raw_decode(text)
    assert isinstance(value, dict)
    assert text[end:].strip() == "", "nothing but the JSON object on stdout"


@pytest.mark.parametrize("order", ORDERS)
def test_top_level_shape(order):
    doc = document(order)
    assert set(doc) == TOP_KEYS
    assert doc["schema"] == "portlint/1"
    assert isinstance(doc["findings"], list) and doc["findings"]
    assert isinstance(doc["pairs"], list)


@pytest.mark.parametrize("order", ORDERS)
def test_every_finding_has_the_spec_shape(order):
    table = rule_table()
    for finding in document(order)["findings"]:
        assert set(finding) == FINDING_KEYS, finding
        assert re.fullmatch(r"PTL\d{3}", finding["code"]), finding["code"]
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", finding["rule"]), finding["rule"]
        assert finding["severity"] in SEVERITIES
        assert isinstance(finding["message"], str) and finding["message"].strip()
        assert "\n" not in finding["message"]
        # code and rule agree with the catalogue; no configuration, so default severities.
        assert finding["rule"] in table, finding["rule"]
        assert (finding["code"], finding["severity"]) == table[finding["rule"]], finding
        assert isinstance(finding["location"], dict), finding
        assert_span(finding["location"])
        assert isinstance(finding["related"], list)
        for related in finding["related"]:
            assert set(related) == RELATED_KEYS, related
            assert isinstance(related["message"], str) and related["message"].strip()
            assert_position(related["path"], related["line"], related["column"])
        fix = finding["fix"]
        if fix is not None:
            assert set(fix) == FIX_KEYS, fix
            assert fix["applicability"] in {"safe", "unsafe"}
            assert isinstance(fix["edits"], list) and fix["edits"]
            for edit in fix["edits"]:
                assert set(edit) == EDIT_KEYS, edit
                assert isinstance(edit["content"], str)
                assert_span({k: edit[k] for k in LOCATION_KEYS})


@pytest.mark.parametrize("order", ORDERS)
def test_findings_are_located_in_the_port(order):
    origin, port = ORDERS[order]
    for finding in document(order)["findings"]:
        assert finding["location"]["path"] == port, finding
        for related in finding["related"]:
            assert related["path"] == origin, related
        for edit in (finding["fix"] or {"edits": []})["edits"]:
            assert edit["path"] == port, edit


@pytest.mark.parametrize("order", [
    "forward",
    "swapped",
])
def test_pair_findings_name_their_counterpart(order):
    origin, _ = ORDERS[order]
    silent = [f"{f['code']} {f['rule']}" for f in document(order)["findings"]
              if f["rule"] != "unresolved-construct"
              and not any(r["path"] == origin for r in f["related"])]
    assert not silent, f"findings without a counterpart in {origin}: {silent}"


@pytest.mark.parametrize("order", ORDERS)
def test_findings_are_sorted_by_location(order):
    keys = [(f["location"]["path"], f["location"]["line"], f["location"]["column"])
            for f in document(order)["findings"]]
    assert keys == sorted(keys)


@pytest.mark.parametrize("order", ORDERS)
def test_pairs_name_both_models_and_the_alignment(order):
    origin, port = ORDERS[order]
    pairs = document(order)["pairs"]
    assert len(pairs) == 1
    pair = pairs[0]
    assert isinstance(pair, dict)
    assert str(pair["origin"]).split("::")[0] == origin
    assert str(pair["port"]).split("::")[0] == port
    assert isinstance(pair["layers"], list) and pair["layers"]


# --------------------------------------------------------------------------- the fixes


def apply_edits(text: str, edits: list[dict]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    spans = sorted(((offset(e["line"], e["column"]), offset(e["end_line"], e["end_column"]),
                     e["content"]) for e in edits), reverse=True)
    for begin, end, content in spans:
        text = text[:begin] + content + text[end:]
    return text


@pytest.mark.parametrize("order, expected", [
    ("forward", "nn.BatchNorm2d(num_features=32, momentum=0.85)"),
    ("swapped", "BatchNormalization(momentum=0.9, axis=-1)"),
])
def test_momentum_fix_applies_cleanly(order, expected):
    _, port = ORDERS[order]
    [finding] = [f for f in document(order)["findings"]
                 if f["rule"] == "batchnorm-momentum-mismatch"]
    assert finding["fix"]["applicability"] == "safe"
    fixed = apply_edits((ROOT / port).read_text(encoding="utf-8"), finding["fix"]["edits"])
    ast.parse(fixed)
    assert expected in fixed.splitlines()[finding["location"]["line"] - 1]


@pytest.mark.parametrize("order", ORDERS)
def test_every_fix_reparses(order):
    _, port = ORDERS[order]
    original = (ROOT / port).read_text(encoding="utf-8")
    fixes = [f["fix"] for f in document(order)["findings"] if f["fix"]]
    assert fixes
    for fix in fixes:
        ast.parse(apply_edits(original, fix["edits"]))
    # All safe fixes together, as `--fix` would apply them.
    every_edit = [e for fix in fixes if fix["applicability"] == "safe" for e in fix["edits"]]
    ast.parse(apply_edits(original, every_edit))


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("order", ORDERS)
def test_output_is_deterministic(order):
    first = run_json(order)
    second = portlint("compare", *ORDERS[order], "--format", "json", text=False)
    assert (second.returncode, second.stdout, second.stderr) == first
    # Set/dict iteration order must not leak into the output.
    for seed in ("0", "1", "4242"):
        assert run_json(order, hash_seed=seed) == first, f"PYTHONHASHSEED={seed}"


def test_swapping_the_arguments_keeps_the_same_questions():
    """The same rules fire whichever side is the port."""
    forward = {f["rule"] for f in document("forward")["findings"]}
    swapped = {f["rule"] for f in document("swapped")["findings"]}
    assert forward == swapped
