"""`portlint verify --numeric` on Hugging Face pairs: is each pair proven equivalent with
portlint's own weight mapping, and is a one-argument change caught?

For each family listed in `CASES` (base pair `TF<X>Model` / `<X>Model`, found by
`hf_families` from the source), two runs of `python -m portlint verify --numeric --format
json` in the interpreter given (it needs transformers 4.46.3, torch, TensorFlow and
tf_keras; this script imports none of them):

1. both sides built from the same small configuration (`--keras-config` and
   `--torch-config` the same file): expected equivalent;
2. the torch side's configuration with one value changed (`layer_norm_eps`, or the
   activation where the family has no such value): expected NOT equivalent.

    python bench/hf_numeric.py --python /work/venv-hf/bin/python \\
        --source /path/to/transformers-4.46.3/transformers --families bert,gpt2 \\
        [--json out.json] [--markdown]

Each run is bounded by --timeout; one line per run is printed as it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hf_families  # noqa: E402

TEXT = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
        "intermediate_size": 96, "vocab_size": 500, "max_position_embeddings": 64}
VISION = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
          "intermediate_size": 96, "image_size": 32, "patch_size": 8}
CNN = {"depths": [1, 1], "hidden_sizes": [16, 32], "embedding_size": 16}
EPS = {"layer_norm_eps": 1e-3}

# family -> (configuration of both sides, the change on the torch side)
CASES: dict[str, tuple[dict, dict]] = {
    "bert": (TEXT, EPS),
    "gpt2": ({"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 500, "n_positions": 64},
             {"layer_norm_epsilon": 1e-3}),
    "vit": (VISION, EPS),
    "resnet": (CNN, {"hidden_act": "gelu"}),
    "electra": ({**TEXT, "embedding_size": 32}, EPS),
    "roberta": (TEXT, EPS),
    "albert": ({**TEXT, "embedding_size": 32}, EPS),
    "distilbert": ({"n_layers": 2, "dim": 64, "n_heads": 4, "hidden_dim": 96,
                    "vocab_size": 500, "max_position_embeddings": 64}, {"activation": "relu"}),
    "deit": (VISION, EPS),
    "mpnet": (TEXT, EPS),
    "deberta_v2": (TEXT, EPS),
    "swin": ({"embed_dim": 16, "depths": [1, 1], "num_heads": [2, 2], "window_size": 4,
              "image_size": 32, "patch_size": 4}, EPS),
    "convnext": ({"depths": [1, 1], "hidden_sizes": [16, 32], "num_stages": 2}, EPS),
    "regnet": ({**CNN, "groups_width": 8}, {"hidden_act": "gelu"}),
    "t5": ({"d_model": 64, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 4,
            "d_kv": 16, "d_ff": 96, "vocab_size": 500}, {"layer_norm_epsilon": 1e-3}),
    "wav2vec2": ({**TEXT, "conv_dim": [16, 16], "conv_stride": [5, 2], "conv_kernel": [10, 3],
                  "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4}, EPS),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="interpreter with transformers, "
                        "torch, TensorFlow and tf_keras (and portlint) installed")
    parser.add_argument("--source", help="transformers' package folder (default: the one "
                        "--python imports, found from its metadata)")
    parser.add_argument("--families", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    return parser.parse_args(argv)


def verify(python: str, root: Path, tf_ref: str, torch_ref: str, keras_cfg: Path,
           torch_cfg: Path, timeout: float) -> dict:
    """One verify --numeric run: its "numeric" object, or an "error"."""
    command = [python, "-m", "portlint", "verify", tf_ref, torch_ref, "--numeric",
               "--format", "json", "--keras-config", str(keras_cfg),
               "--torch-config", str(torch_cfg)]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    seconds = round(time.monotonic() - start, 1)
    try:
        document = json.loads(done.stdout)
        numeric = document["pairs"][0]["numeric"]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail[:300]}", "seconds": seconds}
    return {"equivalent": numeric["equivalent"], "max_abs_error": numeric["max_abs_error"],
            "reason": numeric.get("reason"), "transferred": numeric["transferred"],
            "seconds": seconds}


def run_family(family: hf_families.Family, ns: argparse.Namespace, root: Path,
               tmp: Path) -> dict:
    config, change = CASES[family.name]
    same, changed = tmp / f"{family.name}.json", tmp / f"{family.name}-changed.json"
    same.write_text(json.dumps(config))
    changed.write_text(json.dumps({**config, **change}))
    tf_ref = hf_families.reference(family.tf_file, family.base[0])
    torch_ref = hf_families.reference(family.torch_file, family.base[1])
    row = {"family": family.name, "pair": list(family.base), "config": config,
           "change": change}
    row["same"] = verify(ns.python, root, tf_ref, torch_ref, same, same, ns.timeout)
    row["changed"] = verify(ns.python, root, tf_ref, torch_ref, same, changed, ns.timeout)
    row["proven"] = row["same"].get("equivalent") is True
    row["caught"] = row["changed"].get("equivalent") is False and \
        row["changed"].get("max_abs_error") is not None
    return row


def _e(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1e}"


def _cell(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    verdict = "equivalent" if result["equivalent"] else "NOT equivalent"
    why = f" ({result['reason']})" if result.get("reason") else ""
    return f"{verdict}, max abs {_e(result['max_abs_error'])}{why}"


def markdown(rows: list[dict]) -> list[str]:
    out = ["| family | pair | tensors | same config | one value changed (torch side) | caught |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        change = ", ".join(f"`{k}={v}`" for k, v in r["change"].items())
        out.append(f"| {r['family']} | `{r['pair'][0]}` / `{r['pair'][1]}` | "
                   f"{r['same'].get('transferred', 'n/a')} | {_cell(r['same'])} | {change}: "
                   f"{_cell(r['changed'])} | {'yes' if r['caught'] else 'no'} |")
    proven = sum(r["proven"] for r in rows)
    caught = sum(r["caught"] for r in rows)
    out.append("")
    out.append(f"{proven} of {len(rows)} pairs proven equivalent; the one-value change caught "
               f"in {caught} of {len(rows)}.")
    return out


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)
    package = hf_families.locate_source(ns.source, ns.python)
    root = package.parent
    by_name = {f.name: f for f in hf_families.enumerate_families(package)}
    wanted = [n for n in ns.families.split(",") if n]
    unknown = [n for n in wanted if n not in CASES or n not in by_name or not by_name[n].base]
    if unknown:
        print(f"hf_numeric: no case for {', '.join(unknown)} (known: {', '.join(CASES)})",
              file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="portlint-hf-numeric-") as tmp:
        for name in wanted:
            row = run_family(by_name[name], ns, root, Path(tmp))
            rows.append(row)
            print(f"{name}: same config {_cell(row['same'])}; changed {_cell(row['changed'])}",
                  flush=True)
    if ns.json:
        Path(ns.json).write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    if ns.markdown:
        print("\n".join(markdown(rows)))
    return 0 if all(r["proven"] and r["caught"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
