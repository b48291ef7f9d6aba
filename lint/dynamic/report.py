"""Output of `portlint verify`: compare's report plus the dynamic counts.

Text: compare's findings and aligned table, then a "Dynamic counts" section (like
compare's "Totals") and, with --numeric, a "Numeric check" section, before the closing
summary line. JSON: the `portlint/1` document of compare with a "dynamic" object (and
with --numeric a "numeric" object) in each pair (SPEC "JSON output").
"""

from __future__ import annotations

import json
from typing import Any

from .. import ir
from ..escape import report_line
from ..report import text as text_report
from ..report.json import SCHEMA
from .reconcile import compared, static_as_dynamic
from .verify import VerifyResult


def n(value: int) -> str:
    return f"{value:,}"


MODE_TEXT = {
    "meta": "on the meta device (no weights allocated)",
    "cpu": "on the CPU (weights allocated)",
    "stateless": "without allocating weights (stateless scope)",
    "eager": "with allocated weights",
}


def render_json(result: VerifyResult) -> str:
    document = {"schema": SCHEMA,
                "findings": [f.to_json() for f in result.findings],
                "pairs": [result.to_json()]}
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def render_text(result: VerifyResult) -> str:
    report = text_report.render(result.findings, [result.pair])
    body, newline, last = report.rstrip("\n").rpartition("\n")
    lines = dynamic_section(result)
    if result.numeric is not None:
        lines += ["", *numeric_section(result.numeric)]
    section = "\n".join(report_line(line) for line in lines)  # names quoted in it: escaped
    if not newline:
        return f"{section}\n\n{report}"
    return f"{body}\n{section}\n\n{last}\n"


def _static_note(result: VerifyResult, framework: str) -> str:
    side = result.side(framework)
    graph = side.graph
    if not graph.counts_known():
        return "static: unknown"
    static = static_as_dynamic(framework, graph.total_counts())
    if compared(framework, static) == compared(framework, side.total):
        return "static: same"
    if framework == ir.KERAS:
        return f"static: {n(static['trainable'])} trainable + {n(static['non_trainable'])} non-trainable"
    return f"static: {n(static['parameters'])} parameters + {n(static['buffers'])} buffer elements"


def _build_text(record: dict[str, Any], framework: str) -> str:
    model = record["models"][0]
    version = record["frameworks"].get(framework, "?")
    label = "Keras" if framework == ir.KERAS else "PyTorch"
    peak = record.get("peak_rss_kb")
    memory = f", peak RSS {peak / 1024:,.0f} MB" if peak else ""
    return (f"{label} {version} {MODE_TEXT.get(model['mode'], model['mode'])} in "
            f"{model['seconds']:.2f} s{memory}")


def dynamic_section(result: VerifyResult) -> list[str]:
    k, t = result.keras.total, result.torch.total
    out = ["Dynamic counts (the models built by the verify worker)"]
    out.append(f"  Keras    total {n(k['trainable'] + k['non_trainable'])} = {n(k['trainable'])} "
               f"trainable + {n(k['non_trainable'])} non-trainable  [{_static_note(result, ir.KERAS)}]")
    out.append(f"  PyTorch  {n(t['parameters'])} parameters + {n(t['buffers'])} buffer elements "
               f"({n(t['running_stats'])} running statistics + {n(t['num_batches_tracked'])} "
               f"num_batches_tracked)  [{_static_note(result, ir.TORCH)}]")
    folded = t["folded_bias"]
    same_trainable, same_state = result.across["trainable"], result.across["non_trainable"]
    out.append(text_report.reconciled_line(k, t, folded, same_trainable, same_state))
    parts = []
    for side, noun in ((result.keras, "weighted layers"), (result.torch, "weighted modules")):
        label = "Keras" if side.framework == ir.KERAS else "PyTorch"
        differ = len(side.mismatches)
        parts.append(f"{label} {side.agreeing} of {side.weighted} {noun} agree"
                     + (f", {differ} differ{'s' if differ == 1 else ''} (PTL704)" if differ else ""))
    out.append("  Static extraction: " + "; ".join(parts))
    out.append("  Built: " + "; ".join(_build_text(result.workers[f], f)
                                       for f in (ir.KERAS, ir.TORCH)))
    for note in result.notes:
        out.append(f"  Note: {note}")
    return out


def e(value: float | None) -> str:
    """An error for the text report."""
    if value is None:
        return "n/a"
    return "0" if value == 0 else f"{value:.1e}"


DIRECTION_TEXT = {"keras_to_torch": "Keras -> PyTorch", "torch_to_keras": "PyTorch -> Keras"}


def numeric_section(numeric: dict[str, Any]) -> list[str]:
    """The "Numeric check" section: the transfer, each compared layer, the verdict."""
    tol = numeric["tolerance"]
    direction = DIRECTION_TEXT.get(numeric["direction"], "?")
    by_name = numeric.get("mapped_by") == "names"
    along = "by Hugging Face's weight names" if by_name else "along the alignment"
    title = (f"Numeric check (weights copied {direction} {along}; inference on a "
             f"random batch, seed {numeric['seed']})")
    out = [title]
    shape = numeric.get("input")
    if by_name:
        if shape:
            what = "token ids" if shape.get("dtype") == "int" else "input"
            out.append(f"  `{shape.get('name')}`: {what} {tuple(shape['keras'])}; "
                       f"{numeric['transferred']} tensors transferred, layouts converted")
        out += [f"  {note}" for note in numeric.get("notes") or []]
        modules = numeric.get("modules") or []
        if modules:
            agree = sum(1 for c in modules if c["status"] == "agrees")
            differ = sum(1 for c in modules if c["status"] == "differs")
            out.append(f"  Layer by layer (TF layer and torch module holding the same weights, "
                       f"in the order torch ran them): {agree} of {len(modules)} agree, "
                       f"{differ} differ")
    elif shape:
        what = "token ids" if shape.get("dtype") == "int" else "input"
        layout = (f", PyTorch layout {tuple(shape['torch'])}" if shape["torch"] != shape["keras"]
                  else "")
        out.append(f"  {what.capitalize()} {tuple(shape['keras'])}{layout}; "
                   f"{numeric['transferred']} layer pair{'s' if numeric['transferred'] != 1 else ''} "
                   f"transferred (the original's biases, norm scales and running statistics "
                   f"randomised first, so that defaults cannot hide a difference)")
    for miss in numeric.get("unmapped") or []:
        out.append(f"  Not mapped: {miss['keras'] or '-'} / {miss['torch'] or '-'}: {miss['reason']}")
    layers = numeric.get("layers") or []
    if layers:
        width = max(len(f"{c['keras']} / {c['torch']}") for c in layers)
        for c in layers:
            label = f"{c['keras']} / {c['torch']}".ljust(width)
            if c["status"] == "skipped":
                out.append(f"  {label}  not compared: {c.get('reason')}")
                continue
            verdict = "ok" if c["status"] == "agrees" else "DIFFERS"
            line = (f"  {label}  max abs {e(c.get('max_abs_error')):>7}  rel "
                    f"{e(c.get('max_rel_error')):>7}  {verdict}")
            if c.get("reason"):
                line += f" ({c['reason']})"
            out.append(line)
            if c.get("note") and c["status"] != "agrees":
                out.append(f"    {c['note']}")
    tolerance = f"tolerance {tol['atol']:g} + {tol['rtol']:g}*|original|"
    if numeric["equivalent"]:
        out.append(f"  Equivalent: the final outputs agree within {tolerance} (max abs error "
                   f"{e(numeric['max_abs_error'])}, relative {e(numeric.get('max_rel_error'))})")
    elif numeric.get("max_abs_error") is not None or numeric.get("first_divergence"):
        out.append(f"  NOT equivalent: the final outputs differ by up to "
                   f"{e(numeric['max_abs_error'])} (relative {e(numeric.get('max_rel_error'))}; "
                   f"{tolerance})")
    else:
        out.append(f"  NOT checked: {numeric.get('reason')}")
    first = numeric.get("first_divergence")
    if first is not None:
        where = ("the final output" if first["keras"] == "(output)" else
                 f"Keras `{first['keras']}` / PyTorch `{first['torch']}`")
        detail = first.get("reason") or (f"max abs error {e(first.get('max_abs_error'))}, "
                                         f"max rel error {e(first.get('max_rel_error'))}")
        out.append(f"  First divergence: {where}: {detail}")
        if first.get("note"):
            out.append(f"    {first['note']}")
        if first.get("unmatched_rows"):
            out.append("    Unmatched since the last agreeing layer: "
                       + ", ".join(first["unmatched_rows"]))
        if first.get("static_findings"):
            out.append("    Static findings there: " + ", ".join(first["static_findings"]))
    return out
