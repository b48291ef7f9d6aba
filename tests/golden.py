"""Golden outputs: what `portlint compare` and `portlint check` print on the bundled
examples, the test fixtures and every rule's VALID/INVALID cases, kept byte for byte.

They pin behaviour across refactorings (issue 15: "the JSON output ... is byte-identical
before and after"). tests/test_golden.py compares a fresh run with the stored files;
after an intended change of output, regenerate them and review the diff:

    python tests/golden.py --write
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
GOLDEN = TESTS / "snapshots" / "golden"
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS / "rules"))  # test_precision.py: the precision pairs


@dataclass(frozen=True)
class Run:
    """One CLI invocation, from `cwd`, whose exit code, stdout and stderr are kept."""

    id: str
    args: tuple[str, ...]
    cwd: Path = ROOT


def _rel(path: Path | str) -> str:
    return os.path.relpath(path, ROOT)


def cli_runs() -> list[Run]:
    from style_cases import ALL_PAIRS, SEED_PAIR
    from test_precision import PAIRS as PRECISION

    seed = ("examples/seed/keras_model.py", "examples/seed/torch_model.py")
    runs = [Run(f"seed.{fmt}", ("compare", *seed, "--format", fmt))
            for fmt in ("json", "text", "sarif")]
    runs.append(Run("seed.swapped.json", ("compare", *reversed(seed), "--format", "json")))
    for pair in PRECISION:
        k, t = _rel(pair.keras_path), _rel(pair.torch_path)
        runs.append(Run(f"precision.{pair.stem}.json", ("compare", k, t, "--format", "json")))
        runs.append(Run(f"precision.{pair.stem}.swapped.json",
                        ("compare", t, k, "--format", "json")))
    for pair in [SEED_PAIR, *ALL_PAIRS]:
        extra = ("--input-shape", ",".join(map(str, pair.input_shape))) if pair.input_shape else ()
        k = f"{_rel(pair.keras.path)}::{pair.keras.name}"
        t = f"{_rel(pair.torch.path)}::{pair.torch.name}"
        runs.append(Run(f"styles.{pair.id}.json", ("compare", k, t, "--format", "json", *extra)))
    for folder in ("examples", "tests/fixtures/precision", "tests/fixtures/styles",
                   "tests/fixtures/bad_input"):
        name = folder.replace("/", "_")
        runs.append(Run(f"check.{name}.json", ("check", folder, "--format", "json",
                                               "--no-cache")))
    return runs


def run_cli(run: Run) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTLINT_")}
    env["PYTHONHASHSEED"] = "0"
    result = subprocess.run([sys.executable, "-m", "portlint", *run.args], cwd=run.cwd,
                            env=env, capture_output=True, timeout=300)
    text = (f"exit: {result.returncode}\n--- stdout\n{result.stdout.decode('utf-8', 'replace')}"
            f"--- stderr\n{result.stderr.decode('utf-8', 'replace')}")
    # Where the checkout lies is not behaviour (SARIF names its root as a URI).
    return text.replace(ROOT.as_uri(), "file:///CHECKOUT").replace(str(ROOT), "/CHECKOUT")


def rule_case_outputs() -> dict[str, str]:
    """Every rule's VALID/INVALID case through the in-process pipeline, as JSON text
    (findings and pairs), one document per rule. Paths are relative to a scratch folder."""
    from portlint.compare import Options, compare
    from portlint.rules import ALL_RULES

    out: dict[str, str] = {}
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            for rule in ALL_RULES:
                documents = []
                for kind in ("VALID", "INVALID"):
                    for case in getattr(rule, kind):
                        Path("keras_model.py").write_text(case.keras)
                        Path("torch_model.py").write_text(case.torch)
                        result = compare("keras_model.py", "torch_model.py",
                                         Options(keras_version=case.keras_version))
                        documents.append({"case": kind,
                                          "findings": [f.to_json() for f in result.findings],
                                          "pair": result.to_json()})
                out[f"rules.{rule.code}.json"] = json.dumps(documents, indent=1, sort_keys=True)
        finally:
            os.chdir(old)
    return out


def fresh_outputs() -> dict[str, str]:
    runs = cli_runs()
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(run_cli, runs))
    outputs = {f"{run.id}.txt": text for run, text in zip(runs, texts)}
    outputs.update({f"{name}.txt": text for name, text in rule_case_outputs().items()})
    return outputs


def main() -> None:
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/golden.py --write")
    outputs = fresh_outputs()
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for stale in GOLDEN.glob("*.txt"):
        if stale.name not in outputs:
            stale.unlink()
    for name, text in sorted(outputs.items()):
        (GOLDEN / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(outputs)} golden files to {_rel(GOLDEN)}")


if __name__ == "__main__":
    main()
