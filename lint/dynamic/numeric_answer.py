"""What the numeric step's answer means (parent side: never imports a framework).

`interpret` turns the worker's answer into the "numeric" object of verify's result and
adds what only the static side knows: the rows between the last agreeing layer and the
first divergent one that have no counterpart, and the static findings located there.
"""

from __future__ import annotations

from typing import Any

from ..align import KERAS_ONLY, MATCH, TORCH_ONLY, Alignment, Row
from ..findings import Finding
from ..ir import Node
from .protocol import BATCH

# Findings about what only matters for training: not a cause of different outputs.
TRAINING_ONLY_RULES = frozenset({"batchnorm-momentum-mismatch", "initializer-mismatch",
                                 "buffer-accounting"})


def _describe_row(row: Row) -> str | None:
    if row.status == KERAS_ONLY:
        return f"Keras-only {row.keras.layer_type} `{row.keras.name}`"
    if row.status == TORCH_ONLY:
        return f"PyTorch-only {row.torch.layer_type} `{row.torch.name}`"
    if row.status != MATCH:
        node = row.keras or row.torch
        return f"{row.status} {node.layer_type} `{node.name}`"
    return None


def _findings_at(findings: list[Finding], nodes: list[Node], calls: list[Node]) -> list[str]:
    """Warnings and errors located at the construction or call of `nodes`, or at the call
    of `calls`."""
    places = set()
    for node in nodes:
        for span in (node.span, node.call_span):
            if span is not None:
                places.add((span.path, span.line))
    for node in calls:
        if node.call_span is not None:
            places.add((node.call_span.path, node.call_span.line))
    out = []
    for finding in findings:
        loc = finding.location
        if loc is None or finding.severity not in ("warning", "error"):
            continue
        if (loc.path, loc.line) in places and finding.rule not in TRAINING_ONLY_RULES:
            text = f"{finding.code} {finding.rule} ({loc.path}:{loc.line})"
            if text not in out:
                out.append(text)
    return out


def interpret(alignment: Alignment, findings: list[Finding], params: dict[str, Any],
              answer: dict[str, Any]) -> dict[str, Any]:
    """The SPEC's "numeric" object from the worker's answer (plus per-layer errors and
    what the static side knows about the first divergence)."""
    output = answer.get("output") or {}
    layers = []
    for c in answer.get("layers") or []:
        layer = {"keras": c.get("keras"), "torch": c.get("torch"), "status": c.get("status"),
                 "max_abs_error": c.get("max_abs_error"), "max_rel_error": c.get("max_rel_error")}
        for extra in ("reason", "note"):
            if c.get(extra):
                layer[extra] = c[extra]
        layers.append(layer)
    unmapped = [{"keras": m.get("keras"), "torch": m.get("torch"), "reason": m.get("reason")}
                for m in answer.get("mapping") or [] if m.get("status") != "mapped"]
    result: dict[str, Any] = {
        "equivalent": bool(answer.get("equivalent")),
        "max_abs_error": output.get("max_abs_error"),
        "max_rel_error": output.get("max_rel_error"),
        "first_divergence": None,
        "reason": answer.get("reason"),
        "tolerance": {"atol": answer.get("atol"), "rtol": answer.get("rtol")},
        "direction": answer.get("direction"),
        "seed": answer.get("seed"),
        "input": _input_json(answer.get("input") or params.get("input")),
        "transferred": sum(1 for m in answer.get("mapping") or [] if m.get("status") == "mapped"),
        "unmapped": unmapped,
        "layers": layers,
    }
    if not result["equivalent"] and result["reason"] is None and output.get("reason"):
        result["reason"] = output["reason"]
    if answer.get("mapped_by") == "names":  # a Hugging Face pair (portlint.dynamic.hf_numeric)
        result["mapped_by"] = "names"
        result["notes"] = list(answer.get("notes") or [])
        result["modules"] = [{k: c.get(k) for k in ("keras", "torch", "status", "max_abs_error",
                                                    "max_rel_error", "reason", "note")}
                             for c in answer.get("modules") or []]
        first = answer.get("first_divergence")
        if first is not None:
            # the static findings at the torch module that diverged first (found by its
            # module path, which is the static node's name)
            nodes = [n for n in alignment.torch.nodes if n.name == first.get("torch")]
            first = {**first, "unmatched_rows": [],
                     "static_findings": _findings_at(findings, nodes, [])}
        result["first_divergence"] = first
        return result
    first = answer.get("first_divergence")
    if first is not None:
        divergence = {"keras": first.get("keras"), "torch": first.get("torch"),
                      "max_abs_error": first.get("max_abs_error"),
                      "max_rel_error": first.get("max_rel_error")}
        for extra in ("reason", "note"):
            if first.get(extra):
                divergence[extra] = first[extra]
        rows = alignment.rows
        end = first.get("row")
        end = len(rows) - 1 if end is None else end
        agreeing = [c.get("row") for c in answer.get("layers") or []
                    if c.get("status") == "agrees" and c.get("row") is not None
                    and c["row"] < end]
        start = max(agreeing) + 1 if agreeing else 0
        between = [text for row in rows[start:end + 1] if (text := _describe_row(row))]
        nodes = [n for row in rows[start:end + 1] for n in (row.keras, row.torch) if n is not None]
        # "missing activation after X" points at X's call: the last agreeing layer's
        # calls count too (not its construction: that layer agreed).
        calls = [n for row in rows[start - 1:start] if start > 0
                 for n in (row.keras, row.torch) if n is not None]
        divergence["unmatched_rows"] = between
        divergence["static_findings"] = _findings_at(findings, nodes, calls)
        result["first_divergence"] = divergence
    return result


def _input_json(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    if not spec:
        return None
    out = {"keras": [BATCH, *spec["keras"]], "torch": [BATCH, *spec["torch"]],
           "dtype": spec.get("dtype", "float")}
    if spec.get("high") is not None:
        out["high"] = spec["high"]
    if spec.get("name"):
        out["name"] = spec["name"]
    return out
