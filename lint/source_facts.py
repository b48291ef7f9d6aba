"""Facts about a model's source file that single-file rules need beyond its graph, found
before the rules run and carried on the `Graph`, so that rules read the IR only.

Today one fact: the calls that build or apply a loss expecting logits (PTL802). Which
spellings those are is framework knowledge: `knowledge.torch.LOGITS_LOSSES` and
`knowledge.keras.LOGITS_FLAG`.
"""

from __future__ import annotations

from typing import Any

from . import ir
from .knowledge import keras as K
from .knowledge import torch as T


def attach_source_facts(graph: ir.Graph, source: Any) -> None:
    """Fill the source facts of `graph` from its file (a `portlint.source.SourceFile`)."""
    # A loss on logits only matters after a model that ends in probabilities; walking a
    # large module for it otherwise doubled the CPU time of checking transformers' files.
    if graph.probability_head() is not None:
        if source.memo.get("pruned"):  # parsed for one model: the losses are the file's
            from .source import read_source

            source = read_source(source.path)
        graph.logits_losses = logits_loss_calls(source, graph.framework)


def logits_loss_calls(source: Any, framework: str) -> tuple[ir.LossCall, ...]:
    """Calls in the file that build or apply a loss expecting logits (by spelling)."""
    spellings = T.LOGITS_LOSSES if framework == ir.TORCH else (K.LOGITS_FLAG,)
    if not any(spelling in source.text for spelling in spellings):
        return ()  # walking the whole module costs far more than this test
    import libcst as cst

    found: list[tuple[cst.Call, str]] = []

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = _leaf_name(node.func)
            if name is None:
                return
            if framework == ir.TORCH and name in T.LOGITS_LOSSES:
                found.append((node, name))
            elif framework == ir.KERAS and any(
                    arg.keyword is not None and arg.keyword.value == K.LOGITS_FLAG
                    and isinstance(arg.value, cst.Name) and arg.value.value == "True"
                    for arg in node.args):
                found.append((node, name))

    source.module.visit(Visitor())
    applies = T.LOGITS_LOSSES if framework == ir.TORCH else {}
    return tuple(ir.LossCall(name, applies.get(name), source.span(call)) for call, name in found)


def _leaf_name(func: object) -> str | None:
    import libcst as cst

    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None
