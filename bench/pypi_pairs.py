"""Which pairs bench/pypi_ports.py runs, found by reading the unpacked packages with `ast`
(never importing them): the pairs issue 19 names (data, below), and every keras-cv-attention-
models (kecam) model that pairs by name with a timm model.

Both libraries register their models with a `@register_model` decorator on a module-level
function (`kecam convnext.ConvNeXtTiny`, `timm convnext_tiny`); those functions are the
entry points a user calls, with their defaults, and the references portlint is pointed at.

The name rule: a name's *key* is its lower-case letters and digits (`ConvNeXtTiny` and
`convnext_tiny` are both `convnexttiny`; `RepViT_M09` and `repvit_m0_9` `repvitm09`). A kecam
model pairs with the timm model of the same key; failing that, with the timm model whose name
is the kecam key plus `_<size>`, where <size> is the kecam model's default input size
(`TinyViT_5M`, 224 x 224, pairs with `tiny_vit_5m_224`). A key that two kecam functions
share (the same model name in two files) pairs neither, and is listed as ambiguous.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

KECAM = "keras_cv_attention_models"
TIMM = "timm"


@dataclass(frozen=True)
class Entry:
    name: str          # the function's name
    path: str          # its file, relative to the site folder
    input_size: int | None = None  # kecam: the default input_shape's first element


@dataclass
class Pair:
    name: str                  # the row's label
    group: str                 # "named" (issue 19's list) or "matched" (kecam/timm by name)
    keras_ref: str             # PATH::NAME or PATH::NAME(ARGS), relative to the site folder
    torch_ref: str
    args: list[str] = field(default_factory=list)  # more `portlint compare` arguments
    note: str = ""             # how the pair was chosen or is called
    missing: str = ""          # why it cannot run (an entry not in the source)


def key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _decorated(node: ast.FunctionDef, decorator: str) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name == decorator:
            return True
    return False


def _input_size(node: ast.FunctionDef) -> int | None:
    """The first element of a literal `input_shape=(224, 224, 3)` default."""
    args = node.args
    defaults = dict(zip([a.arg for a in args.args][-len(args.defaults):], args.defaults)) \
        if args.defaults else {}
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    shape = defaults.get("input_shape")
    if isinstance(shape, (ast.Tuple, ast.List)) and shape.elts:
        first = shape.elts[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, int):
            return first.value
    return None


def registered(site: Path, package: str) -> dict[str, list[Entry]]:
    """name -> the module-level functions of that name decorated `@register_model` under
    site/package (a list: a name may be defined in two files)."""
    found: dict[str, list[Entry]] = {}
    root = site / package
    for path in sorted(root.rglob("*.py")) if root.is_dir() else ():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            continue
        rel = path.relative_to(site).as_posix()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _decorated(node, "register_model"):
                entries = found.setdefault(node.name, [])
                if all(e.path != rel for e in entries):  # redefined in one file: one entry
                    entries.append(Entry(node.name, rel, _input_size(node)))
    return found


@dataclass
class Matching:
    pairs: list[tuple[Entry, Entry, str]]   # (kecam, timm, how: "name" or "name + size")
    ambiguous: list[str]                    # kecam refs whose key two functions share
    unmatched: int                          # kecam models with no timm twin


def match(kecam: dict[str, list[Entry]], timm: dict[str, list[Entry]]) -> Matching:
    by_key: dict[str, list[Entry]] = {}
    for entries in timm.values():
        for entry in entries:
            by_key.setdefault(key(entry.name), []).append(entry)
    kecam_keys: dict[str, list[Entry]] = {}
    for entries in kecam.values():
        for entry in entries:
            kecam_keys.setdefault(key(entry.name), []).append(entry)
    pairs, ambiguous, unmatched = [], [], 0
    for k, entries in sorted(kecam_keys.items(), key=lambda kv: kv[1][0].path + kv[1][0].name):
        entry = entries[0]
        twin, how = by_key.get(k), "name"
        if not twin and entry.input_size:
            twin, how = by_key.get(f"{k}{entry.input_size}"), "name + size"
            twin = [t for t in twin or () if t.name.endswith(f"_{entry.input_size}")]
        if not twin or len(twin) > 1:
            unmatched += 1
            continue
        if len(entries) > 1:
            ambiguous.append(" / ".join(f"{e.path}::{e.name}" for e in entries))
            continue
        pairs.append((entry, twin[0], how))
    return Matching(pairs, ambiguous, unmatched)


def ref(entry: Entry, call: str | None = None) -> str:
    return f"{entry.path}::{entry.name}" + (f"({call})" if call is not None else "")


# ----------------------------------------------------------------------- the named pairs

# Issue 19's kecam ports of timm models: (family, kecam function, timm function), each
# called with its defaults.
NAMED_KECAM = (
    ("ConvNeXt", "ConvNeXtTiny", "convnext_tiny"),
    ("MobileViT", "MobileViT_S", "mobilevit_s"),
    ("FastViT", "FastViT_T8", "fastvit_t8"),
    ("CAFormer", "CAFormerS18", "caformer_s18"),
    ("LeViT", "LeViT128", "levit_128"),
    ("TinyViT", "TinyViT_5M", "tiny_vit_5m_224"),
    ("MobileNetV3", "MobileNetV3Large100", "mobilenetv3_large_100"),
    ("RepViT", "RepViT_M09", "repvit_m0_9"),
    ("EfficientFormer", "EfficientFormerL1", "efficientformer_l1"),
    ("InceptionNeXt", "InceptionNeXtTiny", "inception_next_tiny"),
    ("GCViT", "GCViT_XXTiny", "gcvit_xxtiny"),
    ("EdgeNeXt", "EdgeNeXt_XX_Small", "edgenext_xx_small"),
)

# The other packages' pairs: (name, Keras ref, torch ref, more arguments, note). A torch ref
# of `timm:NAME` is timm's registered function NAME, wherever it is defined.
_SM = "segmentation_models/models/{}.py::{}(backbone_name='resnet34')"
_SMP = "segmentation_models_pytorch/decoders/{}/model.py::{}(encoder_name='resnet34')"
_TCN_TORCH = ("pytorch_tcn/tcn.py::TCN(num_inputs=16, num_channels=[64, 64, 64, 64, 64, 64], "
              "kernel_size=3, dilations=[1, 2, 4, 8, 16, 32], dropout=0.0, use_norm=None, "
              "kernel_initializer='he_normal', use_skip_connections=True, input_shape='NLC')")
NAMED_OTHER = (
    ("vit-keras ViT-B/16", "vit_keras/vit.py::vit_b16", "timm:vit_base_patch16_224", [],
     "both with their defaults"),
    ("efficientnet B0", "efficientnet/model.py::EfficientNetB0",
     "efficientnet_pytorch/model.py::EfficientNet.from_name('efficientnet-b0')", [],
     "Keras with its defaults; torch built by its documented factory"),
    ("keras-tcn TCN", "tcn/tcn.py::TCN", _TCN_TORCH, ["--input-shape", "128,16"],
     "a Keras Layer against an nn.Module, the torch one given the Keras defaults "
     "(64 filters, kernel 3, dilations 1-32, skip connections, no norm, no dropout), "
     "128 steps of 16 features, channels last on both"),
    ("segmentation-models Unet", _SM.format("unet", "Unet"), _SMP.format("unet", "Unet"), [],
     "ResNet-34 encoder on both"),
    ("segmentation-models FPN", _SM.format("fpn", "FPN"), _SMP.format("fpn", "FPN"), [],
     "ResNet-34 encoder on both"),
    ("segmentation-models Linknet", _SM.format("linknet", "Linknet"),
     _SMP.format("linknet", "Linknet"), [], "ResNet-34 encoder on both"),
    ("segmentation-models PSPNet", _SM.format("pspnet", "PSPNet"),
     _SMP.format("pspnet", "PSPNet"), [], "ResNet-34 encoder on both"),
)


def _one(index: dict[str, list[Entry]], name: str, package: str) -> tuple[str, str]:
    entries = index.get(name) or []
    if len(entries) == 1:
        return ref(entries[0]), ""
    why = "not registered" if not entries else f"registered in {len(entries)} files"
    return f"{package}::{name}", f"{package} `{name}`: {why} in the source"


def _file_missing(site: Path, reference: str) -> str:
    path = reference.split("::", 1)[0]
    return "" if (site / path).is_file() else f"`{path}` is not in the source"


def named_pairs(site: Path, kecam: dict, timm: dict) -> list[Pair]:
    rows = []
    for family, keras_name, torch_name in NAMED_KECAM:
        keras_ref, missing_k = _one(kecam, keras_name, KECAM)
        torch_ref, missing_t = _one(timm, torch_name, TIMM)
        rows.append(Pair(f"kecam {family}", "named", keras_ref, torch_ref,
                         note="both with their defaults", missing=missing_k or missing_t))
    for name, keras_ref, torch_ref, args, note in NAMED_OTHER:
        missing = _file_missing(site, keras_ref)
        if torch_ref.startswith("timm:"):
            torch_ref, missing_t = _one(timm, torch_ref[len("timm:"):], TIMM)
            missing = missing or missing_t
        else:
            missing = missing or _file_missing(site, torch_ref)
        rows.append(Pair(name, "named", keras_ref, torch_ref, list(args), note, missing))
    return rows


def matched_pairs(matching: Matching) -> list[Pair]:
    return [Pair(f"{k.name} / {t.name}", "matched", ref(k), ref(t), note=how)
            for k, t, how in matching.pairs]
