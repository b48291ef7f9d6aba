"""scripts/extraction_coverage.py: its comparison and grouping logic on synthetic records
(the real runs need torchvision and take a while; see docs/extraction-coverage.md)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from support import ROOT

SCRIPT = ROOT / "scripts" / "extraction_coverage.py"


@pytest.fixture(scope="module")
def cov():
    spec = importlib.util.spec_from_file_location("extraction_coverage", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def torch_layer(name, counts, type_="Linear", tensors=None):
    parent = name.rpartition(".")[0] if name else None
    return {"name": name, "type": type_, "counts": counts, "parent": parent,
            "tensors": tensors or {}}


def static_record(per_name, total):
    return {"per_name": per_name, "total": total, "counts_known": True, "unresolved": [],
            "nodes": len(per_name)}


def run(cov, framework, layers, total, per_name, static_total):
    spec = cov.ModelSpec(framework, "m", "/x/m.py")
    result = cov.Result(spec, static_record(per_name, static_total),
                        {"layers": layers, "total": total})
    return cov.compare(result)


def test_torch_exact_and_composite_and_parameter_path(cov):
    layers = [
        torch_layer("", [768, 0], "Net", {"class_token": [768, 0]}),
        torch_layer("conv", [100, 0], "Conv2d"),
        torch_layer("bn", [20, 21], "BatchNorm2d"),
        torch_layer("attn", [300, 0], "MultiheadAttention"),
        torch_layer("attn.out_proj", [110, 0], "NonDynamicallyQuantizableLinear"),
        torch_layer("act", [0, 0], "ReLU"),
    ]
    per_name = {"class_token": [768, 0, 0], "conv": [100, 0, 0], "bn": [20, 20, 1],
                "attn": [410, 0, 0], "act": [0, 0, 0], "getitem": None}
    comp = run(cov, "torch", layers, [1298, 21], per_name, [1298, 20, 1])
    assert comp["weighted"] == 5 and comp["matched"] == 5
    assert comp["divergences"] == [] and comp["totals_equal"] == [True, True]
    assert comp["static_unknown_extras"] == ["getitem"] and comp["full"]


def test_torch_divergences_and_stray_names(cov):
    layers = [torch_layer("", [0, 0], "Net"), torch_layer("block", [0, 0], "Block"),
              torch_layer("block.conv", [100, 0], "Conv2d"),
              torch_layer("block.fc", [10, 0]), torch_layer("norm", [0, 0], "Identity")]
    per_name = {"conv": [100, 0, 0], "block.fc": None, "norm": [4, 0, 0]}
    comp = run(cov, "torch", layers, [110, 0], per_name, [104, 0, 0])
    kinds = [(d["name"], d["kind"]) for d in comp["divergences"]]
    assert kinds == [("block.conv", "missing"), ("block.fc", "unknown"), ("norm", "differs")]
    assert comp["static_extras"] == ["conv"] and not comp["full"]
    assert comp["totals_equal"] == [False, True]


def test_keras_nested_model_and_convention(cov):
    layers = [{"name": "stem", "type": "Sequential", "counts": [0, 0], "parent": None},
              {"name": "stem_conv", "type": "Conv2D", "counts": [30, 0], "parent": "stem"},
              {"name": "bn", "type": "BatchNormalization", "counts": [8, 8], "parent": None}]
    per_name = {"stem_conv": [30, 0, 0], "bn": [8, 8, 0], "bn.activation": [0, 0, 0]}
    comp = run(cov, "keras", layers, [38, 8], per_name, [38, 8, 0])
    assert comp["matched"] == 2 and comp["full"]


def test_failed_sides_are_not_compared(cov):
    spec = cov.ModelSpec("keras", "m", "/x/m.py")
    comp = cov.compare(cov.Result(spec, {"error": "m.py::m: boom"}, {"layers": []}))
    assert comp == {"static_ok": False, "real_ok": True}


@pytest.mark.parametrize("reason, group", [
    ("condition not known statically (comparison of values not known statically); "
     "followed the `if` branch", "comparison of values not known statically"),
    ("argument `filters`: operand not known statically (subscript of a value not known "
     "statically (_ShapeOf))", "subscript of a value not known statically (_ShapeOf)"),
    ("condition not known statically (operand not known statically (`isinstance(...)`)); "
     "followed the `if` branch", "`isinstance(...)`"),
    ("call not modelled: `torch.nn.LayerNorm` is not in portlint's tables",
     "call not modelled: `torch.nn.LayerNorm` is not in portlint's tables"),
])
def test_reason_groups(cov, reason, group):
    assert cov.reason_group(reason) == group


def test_models_are_ordered_naturally_and_filtered(cov):
    specs = [cov.ModelSpec("torch", n, "/t/resnet.py") for n in ("resnet101", "resnet18")]
    specs.append(cov.ModelSpec("keras", "ResNet50", "/k/resnet.py"))
    assert [s.name for s in cov.select(specs, [])] == ["ResNet50", "resnet18", "resnet101"]
    assert [s.name for s in cov.select(specs, ["RESNET18"])] == ["resnet18"]
