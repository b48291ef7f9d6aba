"""Output formats through the real CLI: `concise`, `sarif`, `github`, `rdjson`.

- Each format on the seed pair, against a snapshot in tests/snapshots/formats/ (absolute
  paths normalised; `PORTLINT_UPDATE_SNAPSHOTS=1 pytest tests/report/test_formats.py` rewrites
  them after an intended change) and cross-checked against `--format json`, so a
  renderer can never drop or reorder a finding.
- SARIF validates against tests/schemas/sarif-schema-2.1.0.json (= ../shared/schemas/...) (draft-04, as its
  `$schema` says): seed both ways round, no findings, a non-ASCII port, a port outside
  the working directory; rules carry the catalogue; fingerprints survive lines inserted
  above; columns are UTF-16 code units.
- rdjson columns are UTF-8 bytes (reviewdog `proto/rdf/reviewdog.proto`, `Position`).
- github: escaping, errors first, the 10-per-level cap and its summary notice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from portlint.escape import github_data, github_property
from portlint.findings import Edit, Finding, Fix, Related
from portlint.ir import Span
from portlint.report import FORMATS, renderer, rule_url
from portlint.report import github as gh
from portlint.report.positions import split_lines, utf8_column, utf16_column
from portlint.rules import ALL_RULES

from support import ROOT, TESTS, portlint, write

KERAS = "examples/seed/keras_model.py"
TORCH = "examples/seed/torch_model.py"
SNAPSHOTS = TESTS / "snapshots" / "formats"
# The OASIS SARIF 2.1.0 schema, vendored so that a clean checkout can validate; the
# project's shared copy (../shared/schemas) must be the same file when it is present.
SARIF_SCHEMA = TESTS / "schemas" / "sarif-schema-2.1.0.json"
SHARED_SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
UPDATE = os.environ.get("PORTLINT_UPDATE_SNAPSHOTS") == "1"
EXTENSION = {"concise": "txt", "github": "txt", "rdjson": "json", "sarif": "json"}


def run_format(fmt: str, *args, cwd: Path | str = ROOT, expect: int = 1) -> str:
    result = portlint("compare", *args, "--format", fmt, cwd=cwd)
    shown = f"rc={result.returncode}\nstderr={result.stderr}"
    assert result.returncode == expect, shown
    assert "Traceback" not in result.stderr, shown
    return result.stdout


_SEED: dict[str, str] = {}


def seed(fmt: str) -> str:
    if fmt not in _SEED:
        _SEED[fmt] = run_format(fmt, KERAS, TORCH)
    return _SEED[fmt]


def seed_findings() -> list[dict]:
    return json.loads(seed("json"))["findings"]


def sarif_validator():
    assert SARIF_SCHEMA.exists(), f"{SARIF_SCHEMA} not found"
    if SHARED_SARIF_SCHEMA.exists():
        assert SHARED_SARIF_SCHEMA.read_bytes() == SARIF_SCHEMA.read_bytes()
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid_sarif(document: dict) -> None:
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


# --------------------------------------------------------------------------- snapshots


def normalise(fmt: str, output: str, findings: list[dict]) -> str:
    """What a snapshot pins is the format, not the rules' wording: the working directory's
    URI becomes file:///ROOT/, every finding's message and related message becomes a
    placeholder (the rules change their wording; the tests below compare messages with
    `--format json` exactly), and so do SARIF's fingerprints (hashes of the message), rule
    indexes and rule catalogue (test_sarif_rules_carry_the_catalogue and
    test_sarif_results_locations_fixes_and_related check them)."""
    output = output.replace(Path(ROOT).as_uri() + "/", "file:///ROOT/")
    if fmt == "sarif":
        document = json.loads(output)
        run = document["runs"][0]
        driver = run["tool"]["driver"]
        driver["rules"] = "<the catalogue>"
        driver["version"] = driver["semanticVersion"] = "<version>"
        for result in run["results"]:
            result["ruleIndex"] = "<index>"
            result["partialFingerprints"] = dict.fromkeys(result["partialFingerprints"], "<hash>")
        output = json.dumps(document, indent=2) + "\n"
    texts: dict[str, str] = {}
    for f in findings:
        texts.setdefault(f["message"], f"<{f['code']} message>")
        for related in f["related"]:
            texts.setdefault(related["message"], f"<related text {len(texts)}>")
    for text in sorted(texts, key=len, reverse=True):
        for form in (text, github_data(text), json.dumps(text)[1:-1]):
            output = output.replace(form, texts[text])
    return output


@pytest.mark.parametrize("fmt", sorted(EXTENSION))
def test_seed_snapshot(fmt):
    findings = json.loads(run_format("json", KERAS, TORCH))["findings"]
    actual = normalise(fmt, run_format(fmt, KERAS, TORCH), findings)
    path = SNAPSHOTS / f"seed.{fmt}.{EXTENSION[fmt]}"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        if not UPDATE:
            pytest.fail(f"wrote the missing snapshot {path}; check it and run again")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (f"--format {fmt} differs from {path}; if the change is intended, "
                                "run PORTLINT_UPDATE_SNAPSHOTS=1 pytest "
                                "tests/report/test_formats.py")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_a_cli_choice_and_deterministic(fmt):
    from portlint.cli import Format

    assert {f.value for f in Format} == set(FORMATS)
    first = portlint("compare", KERAS, TORCH, "--format", fmt)
    second = portlint("compare", KERAS, TORCH, "--format", fmt)
    assert first.returncode == second.returncode == 1, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.endswith("\n")


def test_unknown_renderer_is_a_key_error():
    with pytest.raises(KeyError, match="expected one of"):
        renderer("xml")


@pytest.mark.parametrize("fmt", ["concise", "sarif", "github", "rdjson"])
def test_output_file_gets_exactly_stdout(tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    result = portlint("compare", KERAS, TORCH, "--format", fmt, "--output-file", target)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == run_format(fmt, KERAS, TORCH)


# --------------------------------------------------------------------------- concise


def test_concise_is_one_line_per_finding_in_json_order():
    findings = seed_findings()
    lines = seed("concise").splitlines()
    assert len(lines) == len(findings) + 2  # + summary + fixable hint
    for line, f in zip(lines, findings):
        loc = f["location"]
        mark = " [*]" if f["fix"] and f["fix"]["applicability"] == "safe" else ""
        assert line == f"{loc['path']}:{loc['line']}:{loc['column']}: {f['code']}{mark} {f['message']}"
    assert lines[-2] == "Found 3 errors, 2 warnings, 2 infos."
    assert lines[-1] == "[*] 2 fixable with --fix"
    assert "Aligned layers" not in seed("concise")


def test_concise_without_findings(tmp_path):
    out = run_format("concise", KERAS, TORCH, "--ignore", "PTL", expect=0)
    assert out == "No findings.\n"


# --------------------------------------------------------------------------- sarif


@pytest.mark.parametrize("order", ["forward", "swapped"])
def test_sarif_validates_against_the_schema(order):
    args = (KERAS, TORCH) if order == "forward" else (TORCH, KERAS)
    document = json.loads(run_format("sarif", *args))
    assert_valid_sarif(document)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    assert run["columnKind"] == "utf16CodeUnits"
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    json_findings = json.loads(run_format("json", *args))["findings"]
    assert [r["ruleId"] for r in run["results"]] == [f["code"] for f in json_findings]


def test_sarif_without_findings_validates():
    document = json.loads(run_format("sarif", KERAS, TORCH, "--ignore", "PTL", expect=0))
    assert_valid_sarif(document)
    assert document["runs"][0]["results"] == []
    assert len(document["runs"][0]["tool"]["driver"]["rules"]) >= len(ALL_RULES)


def test_sarif_rules_carry_the_catalogue():
    import portlint

    driver = json.loads(seed("sarif"))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "portlint"
    assert driver["version"] == portlint.__version__
    assert driver["informationUri"].startswith("https://")
    by_id = {rule["id"]: rule for rule in driver["rules"]}
    assert len(by_id) == len(driver["rules"]), "duplicate rule ids"
    level = {"error": "error", "warning": "warning", "info": "note"}
    for rule in ALL_RULES:
        d = by_id[rule.code]
        assert d["name"] == rule.name
        assert d["shortDescription"]["text"].rstrip(".") == rule.summary.rstrip(".")
        assert d["defaultConfiguration"]["level"] == level[rule.severity]
        assert d["helpUri"] == rule_url(rule.code)
        assert rule.doc.strip() in d["help"]["text"]
        assert rule.doc.strip() in d["help"]["markdown"]
        assert 0 < len(d["fullDescription"]["text"]) <= 1024  # GitHub keeps 1024 characters
        assert d["fullDescription"]["markdown"]
    codes = [rule["id"] for rule in driver["rules"]]
    assert codes == sorted(codes)


def test_sarif_results_locations_fixes_and_related():
    run = json.loads(seed("sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    findings = seed_findings()
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["code"]
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding["severity"]]
        assert result["message"]["text"].startswith(finding["message"])
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": TORCH, "uriBaseId": "%SRCROOT%"}
        loc = finding["location"]  # the seed is ASCII: UTF-16 columns equal characters
        assert physical["region"] == {"startLine": loc["line"], "startColumn": loc["column"],
                                      "endLine": loc["end_line"], "endColumn": loc["end_column"]}
        related = result.get("relatedLocations", [])
        assert len(related) == len(finding["related"]) >= 1
        for number, (rel, expected) in enumerate(zip(related, finding["related"]), 1):
            assert rel["id"] == number
            assert rel["message"]["text"] == expected["message"]
            assert rel["physicalLocation"]["artifactLocation"]["uri"] == KERAS
            assert rel["physicalLocation"]["region"]["startLine"] == expected["line"]
            assert f"]({number})" in result["message"]["text"]  # linked from the message
        assert set(result["partialFingerprints"]) == {"portlintFingerprint/v1",
                                                      "primaryLocationLineHash"}
        if finding["fix"] is None:
            assert "fixes" not in result
            continue
        (fix,) = result["fixes"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"]["uri"] == TORCH
        edits = finding["fix"]["edits"]
        assert [(r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"],
                 r["deletedRegion"]["endLine"], r["deletedRegion"]["endColumn"],
                 r["insertedContent"]["text"]) for r in change["replacements"]] == \
            [(e["line"], e["column"], e["end_line"], e["end_column"], e["content"]) for e in edits]
    assert any("fixes" in r for r in run["results"]), "the seed has fixes"


def _copy_seed(directory: Path) -> None:
    for name in ("keras_model.py", "torch_model.py"):
        shutil.copy(ROOT / "examples" / "seed" / name, directory / name)


def test_sarif_fingerprints_survive_lines_inserted_above(tmp_path):
    _copy_seed(tmp_path)
    before = json.loads(run_format("sarif", "keras_model.py", "torch_model.py", cwd=tmp_path))
    port = tmp_path / "torch_model.py"
    port.write_text("# a licence header\n# added later\n\n" + port.read_text(encoding="utf-8"),
                    encoding="utf-8")
    after = json.loads(run_format("sarif", "keras_model.py", "torch_model.py", cwd=tmp_path))
    assert_valid_sarif(after)
    old, new = before["runs"][0]["results"], after["runs"][0]["results"]
    assert len(old) == len(new) > 0
    for a, b in zip(old, new):
        assert a["partialFingerprints"] == b["partialFingerprints"], a["ruleId"]
        assert (b["locations"][0]["physicalLocation"]["region"]["startLine"]
                == a["locations"][0]["physicalLocation"]["region"]["startLine"] + 3)
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in new]
    assert len(set(hashes)) == len(hashes), "fingerprints must tell results apart"


def test_sarif_fingerprint_changes_with_the_flagged_line(tmp_path):
    _copy_seed(tmp_path)
    before = json.loads(run_format("sarif", "keras_model.py", "torch_model.py", cwd=tmp_path))
    port = tmp_path / "torch_model.py"
    port.write_text(port.read_text(encoding="utf-8").replace(
        "nn.BatchNorm2d(num_features=32)", "nn.BatchNorm2d(32)"), encoding="utf-8")
    after = json.loads(run_format("sarif", "keras_model.py", "torch_model.py", cwd=tmp_path))

    def prints(document, code):
        return [r["partialFingerprints"]["portlintFingerprint/v1"]
                for r in document["runs"][0]["results"] if r["ruleId"] == code]

    assert prints(before, "PTL101") != prints(after, "PTL101")
    assert prints(before, "PTL401") == prints(after, "PTL401")


def test_sarif_port_outside_the_working_directory_gets_an_absolute_uri(tmp_path):
    pair, elsewhere = tmp_path / "pair", tmp_path / "cwd"
    pair.mkdir()
    elsewhere.mkdir()
    _copy_seed(pair)
    document = json.loads(run_format("sarif", pair / "keras_model.py", pair / "torch_model.py",
                                     cwd=elsewhere))
    assert_valid_sarif(document)
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (pair / "torch_model.py").as_uri()}


def test_sarif_related_link_text_is_escaped():
    from portlint.report import sarif

    finding = Finding("PTL101", "batchnorm-momentum-mismatch", "error", "see [partner]",
                      Span("nowhere.py", 1, 1, 1, 2),
                      related=[Related(Span("other.py", 2, 3, 2, 9), r"x[0]\y")])
    document = sarif.document([finding])
    assert_valid_sarif(document)
    text = document["runs"][0]["results"][0]["message"]["text"]
    assert text == r"see [partner] ([x\[0\]\\y](1))"


# --------------------------------------------------------------------------- columns

EMOJI_PORT = """\
from collections import OrderedDict

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.Sequential(OrderedDict([("é😀", nn.BatchNorm2d(4))]))

    def forward(self, x):
        return self.bn(self.conv(x))
"""

EMOJI_ORIGIN = """\
from keras import Input, Model
from keras.layers import BatchNormalization, Conv2D


def build_model():
    inputs = Input(shape=(8, 8, 1))
    x = Conv2D(4, 3, padding="same")(inputs)
    x = BatchNormalization(momentum=0.15)(x)
    return Model(inputs, x)
"""


@pytest.fixture
def emoji_pair(tmp_path):
    write(tmp_path / "keras_net.py", EMOJI_ORIGIN)
    write(tmp_path / "torch_net.py", EMOJI_PORT)
    return tmp_path


def _ptl101(findings_or_results, key):
    return next(x for x in findings_or_results if x[key] == "PTL101")


def test_columns_convert_to_utf16_and_utf8_on_a_non_ascii_line(emoji_pair):
    line = EMOJI_PORT.splitlines()[9]
    start = line.index("nn.BatchNorm2d") + 1  # characters, 1-based: what libcst reports
    end = line.index("))]))") + 2  # the character after `nn.BatchNorm2d(4)`
    assert line[: start - 1].count("😀") == 1 and "é" in line[: start - 1]
    args = ("keras_net.py", "torch_net.py")

    finding = _ptl101(json.loads(run_format("json", *args, cwd=emoji_pair))["findings"], "code")
    assert (finding["location"]["column"], finding["location"]["end_column"]) == (start, end) == (53, 70)
    (edit,) = finding["fix"]["edits"]
    assert edit["column"] == edit["end_column"] == 69

    # SARIF: UTF-16 code units, the emoji is a surrogate pair (one extra unit).
    document = json.loads(run_format("sarif", *args, cwd=emoji_pair))
    assert_valid_sarif(document)
    result = _ptl101(document["runs"][0]["results"], "ruleId")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (54, 71)
    assert region["startColumn"] == len(line[: start - 1].encode("utf-16-le")) // 2 + 1
    deleted = result["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]
    assert deleted["startColumn"] == deleted["endColumn"] == 70

    # rdjson: UTF-8 bytes, é is two bytes and the emoji four (three extra bytes).
    diagnostics = json.loads(run_format("rdjson", *args, cwd=emoji_pair))["diagnostics"]
    diagnostic = next(d for d in diagnostics if d["code"]["value"] == "PTL101")
    rng = diagnostic["location"]["range"]
    assert (rng["start"]["column"], rng["end"]["column"]) == (57, 74)
    assert rng["start"]["column"] == len(line[: start - 1].encode("utf-8")) + 1
    (suggestion,) = diagnostic["suggestions"]
    assert suggestion["range"]["start"] == suggestion["range"]["end"] == {"line": 10, "column": 73}
    assert suggestion["text"] == ", momentum=0.85"

    # concise and github keep portlint's character columns, like text and json.
    assert "torch_net.py:10:53: PTL101" in run_format("concise", *args, cwd=emoji_pair)
    assert "line=10,col=53,endLine=10,endColumn=70," in run_format("github", *args, cwd=emoji_pair)


def test_column_conversion_functions():
    # reviewdog.proto's own example: in 'a𐐀b' the column of b is 6 in UTF-8 bytes.
    assert [utf8_column("a𐐀b", c) for c in (1, 2, 3, 4)] == [1, 2, 6, 7]
    assert [utf16_column("a𐐀b", c) for c in (1, 2, 3, 4)] == [1, 2, 4, 5]
    assert utf16_column("é", 2) == 2 and utf8_column("é", 2) == 3
    assert utf16_column("ab", 5) == 5 and utf8_column("ab", 5) == 5  # past the end
    # Lines are numbered as Python numbers them: a form feed is not a line break.
    assert split_lines("a\r\nb\x0cc\rd\ne") == ["a", "b\x0cc", "d", "e"]


# --------------------------------------------------------------------------- rdjson


def test_rdjson_structure_on_the_seed():
    document = json.loads(seed("rdjson"))
    assert document["source"]["name"] == "portlint"
    assert document["severity"] == "ERROR"
    findings = seed_findings()
    assert len(document["diagnostics"]) == len(findings)
    severity = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}
    for diagnostic, finding in zip(document["diagnostics"], findings):
        assert set(diagnostic) <= {"message", "location", "severity", "source", "code",
                                   "suggestions", "related_locations"}
        assert diagnostic["message"] == finding["message"]
        assert diagnostic["severity"] == severity[finding["severity"]]
        assert diagnostic["code"] == {"value": finding["code"], "url": rule_url(finding["code"])}
        loc = finding["location"]
        assert diagnostic["location"] == {"path": TORCH, "range": {
            "start": {"line": loc["line"], "column": loc["column"]},
            "end": {"line": loc["end_line"], "column": loc["end_column"]}}}
        related = diagnostic["related_locations"]
        assert [r["message"] for r in related] == [r["message"] for r in finding["related"]]
        assert all(r["location"]["path"] == KERAS for r in related)
        if finding["fix"] is None:
            assert "suggestions" not in diagnostic
        else:
            assert [(s["range"]["start"]["line"], s["range"]["start"]["column"],
                     s["range"]["end"]["column"], s["text"]) for s in diagnostic["suggestions"]] == \
                [(e["line"], e["column"], e["end_column"], e["content"]) for e in finding["fix"]["edits"]]
    assert any("suggestions" in d for d in document["diagnostics"])


def test_rdjson_without_findings():
    document = json.loads(run_format("rdjson", KERAS, TORCH, "--ignore", "PTL", expect=0))
    assert document["diagnostics"] == []


# --------------------------------------------------------------------------- github


def test_github_escaping():
    assert github_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert github_property("a%b:c,d\ne\r") == "a%25b%3Ac%2Cd%0Ae%0D"
    assert github_data("%0A") == "%250A"  # `%` first, so no escape is decoded twice
    line = gh.command("error", {"file": "dir,x/a:b.py", "line": 3, "title": "PTL101 x"},
                      "50% of it:\n::warning::injected, really")
    assert line == ("::error file=dir%2Cx/a%3Ab.py,line=3,title=PTL101 x::"
                    "50%25 of it:%0A::warning::injected, really")
    assert "\n" not in line


def _finding(index: int, severity: str, *, lines: tuple[int, int] = (1, 1)) -> Finding:
    return Finding(code="PTL101", rule="batchnorm-momentum-mismatch", severity=severity,
                   message=f"{severity} number {index}",
                   location=Span("models/port.py", lines[0] + index, 5, lines[1] + index, 9))


def _levels(output: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^::(\w+) ", output, re.MULTILINE)]


def test_github_caps_each_level_at_ten_and_summarises_the_rest():
    findings = ([_finding(i, "info") for i in range(3)] + [_finding(i, "warning") for i in range(14)]
                + [_finding(i, "error") for i in range(37)])
    out = renderer("github")(findings, [])
    levels = _levels(out)
    assert levels == ["error"] * 10 + ["warning"] * 10 + ["notice"] * 3 + ["notice"]
    lines = out.splitlines()
    assert "error number 0" in lines[0] and "error number 9" in lines[9]  # report order kept
    summary = lines[-2]
    assert summary.startswith("::notice title=portlint%3A more findings::")
    assert ("portlint: 27 more errors and 4 more warnings not shown as annotations" in summary
            and "--format sarif" in summary)
    assert lines[-1] == "Found 37 errors, 14 warnings, 3 infos."
    assert len(levels) <= 50


def test_github_keeps_room_for_the_summary_among_notices():
    findings = ([_finding(i, "error") for i in range(10)] + [_finding(i, "warning") for i in range(11)]
                + [_finding(i, "info") for i in range(10)])
    out = renderer("github")(findings, [])
    assert _levels(out).count("notice") == 10  # 9 findings + the summary
    assert "1 more warning and 1 more notice not shown" in out


def test_github_without_overflow_has_no_summary_notice():
    findings = [_finding(i, "info") for i in range(10)] + [_finding(0, "error")]
    out = renderer("github")(findings, [])
    assert _levels(out) == ["error"] + ["notice"] * 10
    assert "not shown" not in out


def test_github_multiline_location_carries_lines_only():
    finding = _finding(0, "warning", lines=(10, 27))
    (line, _) = renderer("github")([finding], []).splitlines()
    assert line.startswith("::warning file=models/port.py,line=10,endLine=27,title=")
    assert "col=" not in line and "endColumn=" not in line


def test_github_on_the_seed_errors_first():
    lines = seed("github").splitlines()
    assert _levels(seed("github")) == ["error"] * 3 + ["warning"] * 2 + ["notice"] * 2
    assert lines[0].startswith(f"::error file={TORCH},line=16,col=13,endLine=16,endColumn=44,"
                               f"title=PTL101 batchnorm-momentum-mismatch::")
    assert f"%0AKeras counterpart: BatchNormalization `batch_normalization` at {KERAS}:15:13" in lines[0]
    assert lines[-1] == "Found 3 errors, 2 warnings, 2 infos."


# --------------------------------------------------------------------------- odd findings


def test_findings_without_location_or_known_rule_render_everywhere():
    findings = [
        Finding("PTL999", "future-rule", "warning", "no place, [odd] 100%", None),
        Finding("PTL101", "batchnorm-momentum-mismatch", "info", "two edits in two files",
                Span("a.py", 1, 1, 1, 3),
                fix=Fix("unsafe", (Edit(Span("a.py", 1, 1, 1, 1), "x"),
                                   Edit(Span("b.py", 2, 1, 2, 4), "")), title="")),
    ]
    document = json.loads(renderer("sarif")(findings, []))
    assert_valid_sarif(document)
    run = document["runs"][0]
    unknown, known = run["results"]
    assert run["tool"]["driver"]["rules"][unknown["ruleIndex"]]["id"] == "PTL999"
    assert "locations" not in unknown
    assert {c["artifactLocation"]["uri"] for c in known["fixes"][0]["artifactChanges"]} == {"a.py", "b.py"}
    assert known["level"] == "note"

    rd = json.loads(renderer("rdjson")(findings, []))
    assert "location" not in rd["diagnostics"][0] and rd["severity"] == "WARNING"
    assert "unsafe" in rd["diagnostics"][1]["message"]
    assert len(rd["diagnostics"][1]["suggestions"]) == 2

    concise = renderer("concise")(findings, []).splitlines()
    assert concise[0] == "<unknown>: PTL999 no place, [odd] 100%"
    assert concise[1] == "a.py:1:1: PTL101 two edits in two files"  # unsafe: no [*]

    github = renderer("github")(findings, []).splitlines()
    assert github[0] == "::warning title=PTL999 future-rule::no place, [odd] 100%25"


# --------------------------------------------------------------------------- notebooks


def test_notebook_port_is_located_by_cell_not_by_file_line(tmp_path):
    """A notebook's spans count lines of the joined code cells, not lines of the .ipynb
    JSON that code hosts show: the machine formats point at the file and name the cell."""
    _copy_seed(tmp_path)
    port = (tmp_path / "torch_model.py").read_text(encoding="utf-8")
    imports = "".join(line for line in port.splitlines(keepends=True) if line.startswith("import "))
    body = "".join(line for line in port.splitlines(keepends=True) if not line.startswith("import "))
    cells = [("markdown", "# The port\n"), ("code", imports), ("code", "%matplotlib inline\n" + body)]
    (tmp_path / "port.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, text in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1), encoding="utf-8")
    bn_line = next(i for i, line in enumerate(("%matplotlib inline\n" + body).splitlines(), 1)
                   if "BatchNorm2d" in line)
    args = ("keras_model.py", "port.ipynb")
    where = f"cell 3, line {bn_line}, column 13"

    document = json.loads(run_format("sarif", *args, cwd=tmp_path))
    assert_valid_sarif(document)
    result = _ptl101(document["runs"][0]["results"], "ruleId")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "port.ipynb", "uriBaseId": "%SRCROOT%"}}
    assert result["message"]["text"].startswith(f"{where}: BatchNorm2d momentum")
    assert "fixes" not in result  # edits in joined-cell coordinates cannot be applied
    related = result["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "keras_model.py" and "region" in related

    diagnostic = next(d for d in json.loads(run_format("rdjson", *args, cwd=tmp_path))["diagnostics"]
                      if d["code"]["value"] == "PTL101")
    assert diagnostic["location"] == {"path": "port.ipynb"}
    assert diagnostic["message"].startswith(f"{where}: ")
    assert "suggestions" not in diagnostic

    github = next(line for line in run_format("github", *args, cwd=tmp_path).splitlines()
                  if "PTL101" in line)
    assert github.startswith("::error file=port.ipynb,title=PTL101 batchnorm-momentum-mismatch::"
                             f"{where}: BatchNorm2d")

    concise = run_format("concise", *args, cwd=tmp_path)
    assert f"port.ipynb:cell 3:{bn_line}:13: PTL101 BatchNorm2d" in concise  # no [*]: not fixable
    assert "fixable" not in concise
