"""Facts about a model's source file that single-file rules need beyond its graph, found
before the rules run and carried on the `Graph`, so that rules read the IR only.

Today one fact: the calls that build or apply a loss expecting logits (PTL802).
"""

from __future__ import annotations

from typing import Any

from . import ir

# torch losses that apply an activation to logits themselves, by spelling -> that activation.
LOGITS_LOSSES = {
    "CrossEntropyLoss": "softmax", "cross_entropy": "softmax",
    "BCEWithLogitsLoss": "sigmoid", "binary_cross_entropy_with_logits": "sigmoid",
}
# The Keras loss argument saying the loss takes logits.
KERAS_LOGITS_FLAG = "from_logits"


def attach_source_facts(graph: ir.Graph, source: Any) -> None:
    """Fill the source facts of `graph` from its file (a `portlint.source.SourceFile`)."""
    graph.logits_losses = logits_loss_calls(source, graph.framework)


def logits_loss_calls(source: Any, framework: str) -> tuple[ir.LossCall, ...]:
    """Calls in the file that build or apply a loss expecting logits (by spelling)."""
    spellings = LOGITS_LOSSES if framework == ir.TORCH else (KERAS_LOGITS_FLAG,)
    if not any(spelling in source.text for spelling in spellings):
        return ()  # walking the whole module costs far more than this test
    import libcst as cst

    found: list[tuple[cst.Call, str]] = []

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = _leaf_name(node.func)
            if name is None:
                return
            if framework == ir.TORCH and name in LOGITS_LOSSES:
                found.append((node, name))
            elif framework == ir.KERAS and any(
                    arg.keyword is not None and arg.keyword.value == KERAS_LOGITS_FLAG
                    and isinstance(arg.value, cst.Name) and arg.value.value == "True"
                    for arg in node.args):
                found.append((node, name))

    source.module.visit(Visitor())
    applies = LOGITS_LOSSES if framework == ir.TORCH else {}
    return tuple(ir.LossCall(name, applies.get(name), source.span(call)) for call, name in found)


def _leaf_name(func: object) -> str | None:
    import libcst as cst

    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None
