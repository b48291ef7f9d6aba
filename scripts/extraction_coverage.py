#!/usr/bin/env python3
"""How much of Keras Applications and torchvision's classification models portlint extracts.

For every Keras Applications builder (ResNet50, MobileNetV2, ...) and every torchvision
classification builder (resnet50, vit_b_16, ...) this script

1. extracts the model statically with portlint from the installed framework's own source
   file (`FILE::BuilderName`, no arguments; portlint never imports that code),
2. instantiates it with the real framework (Keras: `Builder(weights=None)`; torchvision:
   `torchvision.models.get_model(name, weights=None)`),
3. compares the weight counts per layer (Keras: by layer name, trainable / non-trainable;
   torch: by module path, the module's own parameters / buffers) and in total,

and writes a markdown report (docs/extraction-coverage.md by default).

Each extraction and each instantiation runs in its own subprocess with a timeout, one at
a time, so a crash, a hang or a memory-hungry model cannot stop the run. The real
frameworks' results do not depend on portlint, so they are cached in a JSON file keyed by
framework versions (see --dynamic-cache): re-running after a change to portlint only
repeats the static side, which takes seconds.

Run it with a Python that has portlint, keras (+ tensorflow), torch and torchvision:

    python scripts/extraction_coverage.py                      # everything, write the doc
    python scripts/extraction_coverage.py --framework keras    # Keras Applications only
    python scripts/extraction_coverage.py --only resnet50 --only ResNet50 --output -
"""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KERAS = "keras"
TORCH = "torch"
FRAMEWORKS = (KERAS, TORCH)
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "docs" / "extraction-coverage.md"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "portlint-extraction-coverage" / "dynamic.json"
# Per-sample torch input shape given to portlint's shape inference (channels first).
TORCH_INPUT_SHAPE = {"inception_v3": (3, 299, 299)}
TORCH_DEFAULT_INPUT_SHAPE = (3, 224, 224)
# The torchvision.models submodules that hold non-classification models.
TORCH_TASK_SUBMODULES = ("detection", "segmentation", "video", "optical_flow", "quantization")
RECORD_FORMAT = 2  # bump when the real-model record changes (invalidates the cache)
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONWARNINGS": "ignore"}


@dataclass(frozen=True)
class ModelSpec:
    """One model builder: its framework, public name and defining source file."""

    framework: str
    name: str
    path: str

    @property
    def file(self) -> str:
        return Path(self.path).name


@dataclass
class Result:
    """Everything the report says about one model."""

    spec: ModelSpec
    static: dict[str, Any]  # from static_worker (or an error record)
    real: dict[str, Any]  # from keras_worker / torch_worker (or an error record)
    real_cached: bool = False
    comparison: dict[str, Any] = field(default_factory=dict)


# --- versions ------------------------------------------------------------------------------

def dist_version(name: str) -> str:
    """An installed distribution's version, without importing it."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def framework_versions(framework: str) -> str:
    """The cache key for a framework's real results: the versions that determine them."""
    if framework == KERAS:
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
        tensorflow = dist_version("tensorflow-cpu")
        if tensorflow == "not installed":
            tensorflow = dist_version("tensorflow")
        return f"keras={dist_version('keras')} backend={backend} tensorflow={tensorflow}"
    return f"torch={dist_version('torch')} torchvision={dist_version('torchvision')}"


def portlint_revision(where: str) -> str:
    """`git describe` of the portlint checkout at `where`."""
    try:
        out = subprocess.run(["git", "-C", where, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True, timeout=30)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"at {where} (not a git checkout)"


def portlint_dir() -> Path | None:
    """The directory of the portlint package this Python imports, found without importing."""
    spec = importlib.util.find_spec("portlint")
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).resolve().parent


# --- enumerating the models ----------------------------------------------------------------

def package_dir(name: str) -> Path:
    """An installed package's directory, found without importing (executing) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"extraction_coverage: package {name!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def defined_functions(path: Path) -> set[str]:
    """Names of the module-level functions a Python file defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def keras_models() -> list[ModelSpec]:
    """The builders `keras.applications` exports, read from its generated __init__.py.

    Each is a line `from keras.src.applications.MODULE import Name as Name`; the builder is
    `def Name(` in keras/src/applications/MODULE.py. Nothing is imported.
    """
    root = package_dir("keras")
    init = root / "applications" / "__init__.py"
    prefix = "keras.src.applications."
    specs = []
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix)):
            continue
        path = root / "src" / "applications" / (node.module[len(prefix):] + ".py")
        functions = defined_functions(path)
        for alias in node.names:
            if alias.name in functions:
                specs.append(ModelSpec(KERAS, alias.asname or alias.name, str(path)))
    return specs


def torch_models(cache: dict[str, Any], timeout: float) -> list[ModelSpec]:
    """torchvision's classification builders: `list_models(module=torchvision.models)`,
    each with the file its function is defined in (a subprocess imports torchvision once;
    the list is cached with the real results)."""
    key = f"models-list {framework_versions(TORCH)}"
    if key not in cache:
        record = run_worker("list-torch", None, timeout)
        if "error" in record:
            raise SystemExit(f"extraction_coverage: listing torchvision models failed: "
                             f"{record['error']}")
        cache[key] = record["models"]
    return [ModelSpec(TORCH, m["name"], m["path"]) for m in cache[key]]


def natural_key(text: str) -> list[Any]:
    """Sort key that orders resnet18 before resnet101."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def select(specs: list[ModelSpec], only: list[str]) -> list[ModelSpec]:
    """The models to run, in a deterministic order (by file, then name)."""
    if only:
        wanted = {name.lower() for name in only}
        specs = [s for s in specs if s.name.lower() in wanted]
    return sorted(specs, key=lambda s: (s.framework, natural_key(s.file), natural_key(s.name)))


# --- subprocess workers --------------------------------------------------------------------

def run_worker(kind: str, spec: ModelSpec | None, timeout: float) -> dict[str, Any]:
    """Run this script as `--worker KIND` in a fresh process; its JSON record, or an error
    record on timeout, crash or missing result. `wall_s` is the subprocess's wall time."""
    with tempfile.TemporaryDirectory(prefix="portlint-coverage-") as tmp:
        result_file = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
                   "--result-file", str(result_file)]
        if spec is not None:
            command += ["--model-name", spec.name, "--model-path", spec.path,
                        "--model-framework", spec.framework]
        env = {**os.environ, **WORKER_ENV}
        start = time.perf_counter()
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {timeout:g} s",
                    "wall_s": time.perf_counter() - start}
        wall = time.perf_counter() - start
        if result_file.exists():
            record = json.loads(result_file.read_text(encoding="utf-8"))
        else:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            record = {"error": f"worker exited with code {proc.returncode}: {tail[0]}"}
        record["wall_s"] = wall
        return record


def write_result(path: str, record: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(record), encoding="utf-8")


def first_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


def static_worker(name: str, path: str, framework: str) -> dict[str, Any]:
    """portlint's static view of one model: per-name counts (Counts fields, or None where
    unknown; shared re-applications skipped; weights a module holds directly added to its
    name), totals and what it could not follow."""
    import portlint
    from portlint.errors import InputError
    from portlint.frontend import ModelRef, extract
    from portlint.shapes import infer

    where = str(Path(portlint.__file__).resolve().parent)

    start = time.perf_counter()
    try:
        input_shape = None
        if framework == TORCH:
            input_shape = TORCH_INPUT_SHAPE.get(name, TORCH_DEFAULT_INPUT_SHAPE)
        # As `compare` does once the partner gives the input: code asking for sizes
        # (`n, c, h, w = x.shape`) is then followed.
        graph = extract(ModelRef(path, name), input_shape=input_shape)
        infer(graph, input_shape=input_shape)
    except InputError as exc:
        return {"error": first_line(exc), "portlint": where,
                "seconds": time.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001 - a portlint bug: report it, don't stop the run
        return {"error": f"crash: {type(exc).__name__}: {first_line(exc)}", "portlint": where,
                "seconds": time.perf_counter() - start}
    weights: list[tuple[str, Any]] = []  # (name, Counts or None) of every weight holder
    seen_keys: set[int] = set()
    for node in graph.nodes:
        if node.op == "input":
            continue  # graph inputs hold no weights
        if node.layer_key is not None:
            if node.layer_key in seen_keys:
                continue
            seen_keys.add(node.layer_key)
        weights.append((node.name, node.counts))
    # Weights a module or layer holds directly (nn.Parameter, buffers, add_weight).
    weights += [(owned.name, owned.counts) for owned in getattr(graph, "owned", [])]
    per_name: dict[str, list[int] | None] = {}
    for name, counts in weights:
        fields = (None if counts is None
                  else [counts.trainable, counts.state, counts.torch_extra_buffers])
        if name not in per_name:
            per_name[name] = fields
        elif per_name[name] is not None and fields is not None:
            per_name[name] = [a + b for a, b in zip(per_name[name], fields, strict=True)]
        else:
            per_name[name] = None
    total = graph.total_counts()
    return {
        "nodes": len(graph.layers()),
        "owned": len(getattr(graph, "owned", [])),
        "input_shape": list(graph.input_shape) if graph.input_shape else None,
        "per_name": per_name,
        "counts_known": graph.counts_known(),
        "total": [total.trainable, total.state, total.torch_extra_buffers],
        "unresolved": [{"reason": u.reason, "line": u.span.line if u.span else None}
                       for u in graph.unresolved],
        "portlint": where,
        "seconds": time.perf_counter() - start,
    }


def keras_worker(name: str) -> dict[str, Any]:
    """The real Keras model: `keras.applications.NAME(weights=None)`. Per layer (in
    model.layers order, nested models such as ConvNeXt's stem `Sequential` expanded into
    their layers) its trainable and non-trainable weight counts and its parent model."""
    import inspect

    import keras
    import numpy as np

    def size(weights: list[Any]) -> int:
        return int(sum(np.prod(tuple(w.shape), dtype=np.int64) for w in weights))

    def add(layers: list[Any], parent: str | None) -> None:
        for layer in layers:
            counts = [size(layer.trainable_weights), size(layer.non_trainable_weights)]
            nested = isinstance(layer, keras.Model)
            if nested:  # its weights belong to its layers; what is left is its own
                inner = [sum(size(sub.trainable_weights) for sub in layer.layers),
                         sum(size(sub.non_trainable_weights) for sub in layer.layers)]
                counts = [max(total - part, 0) for total, part in zip(counts, inner, strict=True)]
            entries.append({"name": layer.name, "type": type(layer).__name__,
                             "counts": counts, "parent": parent})
            if nested:
                add(layer.layers, layer.name)

    start = time.perf_counter()
    builder = getattr(keras.applications, name)
    model = builder(weights=None)
    entries: list[dict[str, Any]] = []
    add(model.layers, None)
    return {
        "layers": entries,
        "total": [size(model.trainable_weights), size(model.non_trainable_weights)],
        "input_shape": list(model.input_shape[1:]),
        "source": inspect.getsourcefile(inspect.unwrap(builder)),
        "seconds": time.perf_counter() - start,
    }


def torch_worker(name: str) -> dict[str, Any]:
    """The real torch model: `torchvision.models.get_model(NAME, weights=None)`. Per
    module (named_modules order, "" the root) the numel of its own parameters and buffers,
    its parent module and its own tensors by name."""
    import torch
    import torchvision

    torch.manual_seed(0)
    start = time.perf_counter()
    model = torchvision.models.get_model(name, weights=None)
    entries = []
    for path, module in model.named_modules():
        params = list(module.named_parameters(recurse=False))
        buffers = list(module.named_buffers(recurse=False))
        entries.append({
            "name": path,
            "type": type(module).__name__,
            "counts": [sum(p.numel() for _, p in params), sum(b.numel() for _, b in buffers)],
            "parent": path.rpartition(".")[0] if path else None,
            "tensors": {n: [p.numel(), 0] for n, p in params}
                       | {n: [0, b.numel()] for n, b in buffers},
        })
    return {
        "layers": entries,
        "total": [sum(p.numel() for p in model.parameters()),
                  sum(b.numel() for b in model.buffers())],
        "seconds": time.perf_counter() - start,
    }


def list_torch_worker() -> dict[str, Any]:
    """torchvision's classification builders and their source files."""
    import inspect

    import torchvision

    models = []
    for name in torchvision.models.list_models(module=torchvision.models):
        builder = inspect.unwrap(torchvision.models.get_model_builder(name))
        module = builder.__module__.split(".")
        if any(part in TORCH_TASK_SUBMODULES for part in module):
            continue
        models.append({"name": name, "path": inspect.getsourcefile(builder),
                       "function": builder.__name__})
    return {"models": models}


def worker_main(args: argparse.Namespace) -> None:
    """Entry point of a worker subprocess: compute one record, write it as JSON."""
    try:
        if args.worker == "static":
            record = static_worker(args.model_name, args.model_path, args.model_framework)
        elif args.worker == "keras":
            record = keras_worker(args.model_name)
        elif args.worker == "torch":
            record = torch_worker(args.model_name)
        else:
            record = list_torch_worker()
    except Exception as exc:  # noqa: BLE001 - any failure becomes the record
        record = {"error": f"{type(exc).__name__}: {first_line(exc)}"}
    write_result(args.result_file, record)


# --- running and comparing -----------------------------------------------------------------

def load_cache(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def save_cache(path: Path | None, cache: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def real_record(spec: ModelSpec, cache: dict[str, Any], cache_path: Path | None,
                timeout: float, refresh: bool) -> tuple[dict[str, Any], bool]:
    """The real framework's record for `spec`, from the cache or a fresh instantiation.
    Successful records are cached at once (a later crash of this script keeps them);
    failures are not, so that they are retried next time."""
    key = f"{spec.framework}:{spec.name} {framework_versions(spec.framework)} v{RECORD_FORMAT}"
    if key in cache and not refresh:
        return cache[key], True
    record = run_worker(spec.framework, spec, timeout)
    if "error" not in record:
        cache[key] = record
        save_cache(cache_path, cache)
    return record, False


def static_counts(static: dict[str, Any], name: str, framework: str) -> tuple | None:
    """One name's static counts in the framework's convention, None when unknown."""
    counts = static["per_name"].get(name)
    if counts is None:
        return None
    trainable, state, extra = counts
    return (trainable, state) if framework == KERAS else (trainable, state + extra)


def add_counts(*counts: tuple | None) -> tuple | None:
    if any(c is None for c in counts):
        return None
    return tuple(sum(parts) for parts in zip(*counts, strict=True))


class LayerComparison:
    """Matches the real layers (a tree: torch modules, Keras layers with nested models
    expanded) against the static counts by name.

    A real layer matches when the static node(s) of its name have exactly its own counts;
    static weights on a real layer without weights are a divergence too.
    Two other spellings of the same weights also match: a static node standing for a
    whole sub-tree (e.g. one `MultiheadAttention` node holding its `out_proj`; no static
    node names any of its descendants), and a torch module's own tensors counted at static
    nodes named by parameter path (`encoder.pos_embedding`, `class_token` for the root).
    """

    def __init__(self, real: dict[str, Any], static: dict[str, Any], framework: str):
        self.static, self.framework = static, framework
        self.layers = {layer["name"]: layer for layer in real["layers"]}
        self.children: dict[str | None, list[str]] = defaultdict(list)
        for layer in real["layers"]:
            self.children[layer.get("parent")].append(layer["name"])
        self.subtree: dict[str, tuple] = {}
        for layer in reversed(real["layers"]):  # parents precede their children
            parts = [tuple(layer["counts"])] + [self.subtree[c] for c in
                                                self.children[layer["name"]]]
            self.subtree[layer["name"]] = add_counts(*parts)
        self.matched = 0
        self.divergences: list[dict[str, Any]] = []

    def run(self) -> None:
        for name in self.children[None]:
            self.walk(name)

    def descendants(self, name: str) -> list[str]:
        out = []
        for child in self.children[name]:
            out += [child, *self.descendants(child)]
        return out

    def weighted(self, name: str) -> bool:
        return any(self.layers[name]["counts"])

    def walk(self, name: str) -> None:
        own = tuple(self.layers[name]["counts"])
        below = [d for d in self.descendants(name) if self.weighted(d)]
        if below and self.matches_subtree(name, below):
            self.matched += len(below) + (1 if any(own) else 0)
            return
        if any(own):
            if self.matches_own(name, own):
                self.matched += 1
            else:
                self.diverge(name, own)
        elif static_counts(self.static, name, self.framework) not in (None, (0, 0)):
            self.diverge(name, own)  # static weights on a layer that has none
        for child in self.children[name]:
            self.walk(child)

    def matches_subtree(self, name: str, below: list[str]) -> bool:
        per_name = self.static["per_name"]
        return (name in per_name and not any(d in per_name for d in self.descendants(name))
                and static_counts(self.static, name, self.framework) == self.subtree[name])

    def matches_own(self, name: str, own: tuple) -> bool:
        got = static_counts(self.static, name, self.framework)
        if got == own:
            return True
        tensor_names = [f"{name}.{t}" if name else t
                        for t in self.layers[name].get("tensors", {})]
        present = [t for t in tensor_names if t in self.static["per_name"]]
        if not present:
            return False
        parts = [static_counts(self.static, t, self.framework) for t in present]
        if name in self.static["per_name"]:
            parts.append(got)
        return add_counts(*parts) == own

    def diverge(self, name: str, own: tuple) -> None:
        if name in self.static["per_name"]:
            got = static_counts(self.static, name, self.framework)
            kind = "unknown" if got is None else "differs"
        else:
            got, kind = None, "missing"
        self.divergences.append({"name": name, "type": self.layers[name]["type"],
                                 "kind": kind, "real": list(own),
                                 "static": None if got is None else list(got)})

    def static_leftovers(self) -> tuple[list[str], list[str]]:
        """Static names that are no real layer (nor a real layer's tensor): those with
        weights, and those whose counts are unknown."""
        known = set(self.layers)
        for name, layer in self.layers.items():
            known |= {f"{name}.{t}" if name else t for t in layer.get("tensors", {})}
        weighted, unknown = [], []
        for name in self.static["per_name"]:
            if name in known:
                continue
            counts = static_counts(self.static, name, self.framework)
            if counts is None:
                unknown.append(name)
            elif any(counts):
                weighted.append(name)
        return weighted, unknown


def compare(result: Result) -> dict[str, Any]:
    """Per-layer and total comparison of the static and the real counts."""
    static, real, framework = result.static, result.real, result.spec.framework
    out: dict[str, Any] = {"static_ok": "error" not in static, "real_ok": "error" not in real}
    if not (out["static_ok"] and out["real_ok"]):
        return out
    layers = LayerComparison(real, static, framework)
    layers.run()
    extras, unknown_extras = layers.static_leftovers()
    trainable, state, extra = static["total"]
    static_total = (trainable, state) if framework == KERAS else (trainable, state + extra)
    out.update({
        "weighted": sum(any(layer["counts"]) for layer in real["layers"]),
        "matched": layers.matched,
        "divergences": layers.divergences,
        "static_extras": extras,
        "static_unknown_extras": unknown_extras,
        "total_real": real["total"],
        "total_static": list(static_total),
        "totals_equal": [a == b for a, b in zip(static_total, real["total"], strict=True)],
    })
    out["full"] = (not layers.divergences and all(out["totals_equal"]) and not extras)
    return out


def run_all(specs: list[ModelSpec], args: argparse.Namespace,
            cache: dict[str, Any]) -> list[Result]:
    """Static extraction and real instantiation of each model, one after another."""
    results = []
    for index, spec in enumerate(specs, 1):
        static = run_worker("static", spec, args.static_timeout)
        real, cached = real_record(spec, cache, args.dynamic_cache, args.timeout,
                                   args.refresh_dynamic)
        result = Result(spec, static, real, cached)
        result.comparison = compare(result)
        results.append(result)
        status = ("full" if result.comparison.get("full")
                  else "static error" if "error" in static
                  else "real error" if "error" in real else "partial")
        print(f"[{index}/{len(specs)}] {spec.framework} {spec.name}: {status} "
              f"(static {static.get('wall_s', 0):.1f} s, real {real.get('wall_s', 0):.1f} s"
              f"{', cached' if cached else ''})", file=sys.stderr, flush=True)
    return results


# --- the report ----------------------------------------------------------------------------

TOTAL_LABELS = {KERAS: ("trainable", "non-trainable"), TORCH: ("params", "buffers")}


def cell(text: Any) -> str:
    """Markdown-table-safe text."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def shorten_error(text: str, spec: ModelSpec) -> str:
    """An error's first line with the long site-packages path cut to the file name."""
    return first_line(text).replace(spec.path, spec.file)


def total_cell(comparison: dict[str, Any], index: int) -> str:
    if "totals_equal" not in comparison:
        return "–"
    if comparison["totals_equal"][index]:
        return "yes"
    delta = comparison["total_static"][index] - comparison["total_real"][index]
    return f"no ({delta:+,})"


def divergence_text(divergence: dict[str, Any]) -> str:
    name = divergence["name"] or "(root)"
    if divergence["kind"] == "missing":
        return f"`{name}` ({divergence['type']}) missing"
    if divergence["kind"] == "unknown":
        return f"`{name}` ({divergence['type']}) count unknown"
    real, static = divergence["real"], divergence["static"]
    return f"`{name}` ({divergence['type']}) {list(static)} vs real {real}"


def model_row(result: Result) -> str:
    spec, static, real, comp = result.spec, result.static, result.real, result.comparison
    first = comp.get("divergences", [])
    note = ""
    if "error" in static:
        note = "static: " + shorten_error(static["error"], spec)
    elif "error" in real:
        note = "real: " + first_line(real["error"])
    elif first:
        note = "first: " + divergence_text(first[0])
    elif comp.get("static_extras"):
        note = f"static weights at `{comp['static_extras'][0]}`, no real layer of that name"
    elif comp.get("static_unknown_extras"):
        note = f"static count unknown at `{comp['static_unknown_extras'][0]}`"
    cells = [
        f"{spec.name}",
        spec.file,
        static.get("nodes", "–"),
        comp.get("weighted", "–"),
        comp.get("matched", "–"),
        total_cell(comp, 0),
        total_cell(comp, 1),
        len(static["unresolved"]) if "unresolved" in static else "–",
        note,
        f"{static.get('wall_s', 0):.1f} / {real.get('wall_s', 0):.1f}"
        + ("*" if result.real_cached else ""),
    ]
    if comp.get("full"):
        cells[0] = f"**{spec.name}**"
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def model_table(results: list[Result], framework: str) -> list[str]:
    first, second = TOTAL_LABELS[framework]
    header = ["model", "file", "static nodes", "real weighted layers", "matched",
              f"{first} equal", f"{second} equal", "unresolved", "first divergence / error",
              "time s (static / real)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [model_row(r) for r in results if r.spec.framework == framework]
    return lines


def summary_table(results: list[Result], frameworks: list[str]) -> list[str]:
    lines = ["| framework | models | static extraction ran | real model built | "
             "all counts known | totals exact (both) | every layer exact | "
             "fully extracted |", "|---|---|---|---|---|---|---|---|"]
    for framework in frameworks:
        mine = [r for r in results if r.spec.framework == framework]
        comps = [r.comparison for r in mine]
        row = [
            framework,
            len(mine),
            sum(c["static_ok"] for c in comps),
            sum(c["real_ok"] for c in comps),
            sum(bool(r.static.get("counts_known")) for r in mine),
            sum(all(c.get("totals_equal", [False])) for c in comps),
            sum("divergences" in c and not c["divergences"] for c in comps),
            sum(bool(c.get("full")) for c in comps),
        ]
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return lines


def reason_group(reason: str) -> str:
    """The group of an unresolved reason: its innermost cause. Argument names and branch
    notes are dropped, then generic wrappers are peeled off:
    `argument `axis`: condition not known statically (comparison of values not known
    statically)` -> `comparison of values not known statically`. A bare type name stays
    with its wrapper (`subscript of a value not known statically (list)`)."""
    text = re.sub(r"^argument `[^`]*`: ", "", reason.strip())
    text = re.sub(r"; followed the `[^`]*` branch$", "", text)
    while True:
        match = re.fullmatch(r"([^()`]*?) \((.*)\)", text)
        if not match or re.fullmatch(r"[A-Za-z_][\w.]*", match.group(2)):
            return text
        text = match.group(2)


def examples(names: list[str], limit: int = 4) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:limit])
    return shown + (f", … (+{len(unique) - limit})" if len(unique) > limit else "")


def failure_section(results: list[Result], framework: str) -> list[str]:
    """What fails and why, derived from the data: static errors, first divergent layers
    grouped by real layer type and kind, and unresolved reasons grouped by cause."""
    mine = [r for r in results if r.spec.framework == framework]
    lines: list[str] = []
    if all(r.comparison.get("full") for r in mine):
        return ["Nothing: every model is fully extracted.", ""]

    errors: dict[str, list[str]] = defaultdict(list)
    for r in mine:
        if "error" in r.static:
            text = shorten_error(r.static["error"], r.spec)
            text = re.sub(r"^\S+\.py(::\S+)?: ", "", text)  # drop the `FILE::MODEL: ` prefix
            text = re.sub(r"`" + re.escape(r.spec.name) + "`", "`MODEL`", text)
            errors[text].append(r.spec.name)
    if errors:
        lines += ["Static extraction failed (error, models):", ""]
        for text, names in sorted(errors.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            lines.append(f"- {len(names)}× {cell(text)} — {examples(names)}")
        lines.append("")

    firsts: dict[tuple[str, str], list[str]] = defaultdict(list)
    first_example: dict[tuple[str, str], str] = {}
    all_div: Counter = Counter()
    for r in mine:
        divergences = r.comparison.get("divergences", [])
        if divergences:
            d = divergences[0]
            firsts[(d["type"], d["kind"])].append(r.spec.name)
            first_example.setdefault((d["type"], d["kind"]),
                                     f"{r.spec.name}: {divergence_text(d)}")
        for d in divergences:
            all_div[(d["type"], d["kind"])] += 1
    if firsts:
        lines += ["First divergent layer (real layer type, how it diverges: models); "
                  "`missing` = no static node of that name, `unknown` = static count "
                  "unknown, `differs` = a different count:", ""]
        for (kind_type, kind), names in sorted(firsts.items(),
                                               key=lambda kv: (-len(kv[1]), kv[0])):
            lines.append(f"- {len(names)}× {kind_type} {kind} — {examples(names)} "
                         f"(e.g. {cell(first_example[(kind_type, kind)])})")
        lines += ["", "All divergent layers by type (layers over all models): "
                  + ", ".join(f"{t} {k} {n}" for (t, k), n in all_div.most_common(12)), ""]

    stray = [r for r in mine if r.comparison.get("static_extras")]
    if stray:
        lines += ["Static nodes with weights under a name that is no real layer (naming "
                  "divergence or invented weights; model: count, first):", ""]
        lines += [f"- {r.spec.name}: {len(r.comparison['static_extras'])}, "
                  f"`{r.comparison['static_extras'][0]}`" for r in stray]
        lines.append("")

    groups: dict[str, list[str]] = defaultdict(list)
    occurrences: Counter = Counter()
    where: dict[str, str] = {}
    for r in mine:
        for u in r.static.get("unresolved", []):
            group = reason_group(u["reason"])
            groups[group].append(r.spec.name)
            occurrences[group] += 1
            if u["line"] is not None:
                where.setdefault(group, f"{r.spec.file}:{u['line']}")
    if groups:
        lines += ["Unresolved constructs by cause (models affected, occurrences, examples):",
                  ""]
        ranked = sorted(groups.items(), key=lambda kv: (-len(set(kv[1])), -occurrences[kv[0]],
                                                        kv[0]))
        for group, names in ranked[:15]:
            at = f" (e.g. {where[group]})" if group in where else ""
            lines.append(f"- {len(set(names))} models, {occurrences[group]}× "
                         f"{cell(group)} — {examples(names)}{at}")
        if len(ranked) > 15:
            lines.append(f"- … {len(ranked) - 15} rarer causes (see `--json` output)")
        lines.append("")
    return lines


def portlint_label(results: list[Result], revision_at_start: str) -> str:
    """Which portlint the static workers imported; says so if it changed during the run."""
    where = next((r.static["portlint"] for r in results if "portlint" in r.static), str(REPO))
    revision = portlint_revision(where)
    if revision != revision_at_start:
        return f"portlint {revision_at_start} → {revision} (changed during the run)"
    return f"portlint {revision}"


def render(results: list[Result], frameworks: list[str], command: str,
           revision_at_start: str) -> str:
    """The markdown report."""
    today = datetime.date.today().isoformat()
    versions = [portlint_label(results, revision_at_start), f"Python {platform.python_version()}"]
    if KERAS in frameworks:
        versions.append(framework_versions(KERAS))
    if TORCH in frameworks:
        versions.append(framework_versions(TORCH))
    lines = [
        "# Extraction coverage: Keras Applications and torchvision classification models",
        "",
        f"Generated {today} by `scripts/extraction_coverage.py` with "
        + "; ".join(versions) + ".",
        "",
        "Reproduce (a Python environment with portlint, keras + tensorflow-cpu, torch and "
        "torchvision):",
        "",
        "```sh",
        command,
        "```",
        "",
        "Each model is extracted statically by portlint from the framework's own source "
        "file (`FILE::Builder`, no arguments: for Keras that means `weights=\"imagenet\"`, "
        "which portlint does not follow) and instantiated for real (Keras "
        "`Builder(weights=None)`, torchvision `get_model(name, weights=None)`). Weight "
        "counts are compared per layer (Keras: by layer name, trainable and non-trainable "
        "weights, nested models expanded into their layers; torch: by module path, the "
        "module's own parameters and buffers) and in total. Static nodes of one name are "
        "summed, shared re-applications skipped. A static node may also stand for a whole "
        "real sub-tree (one `MultiheadAttention` node holding its `out_proj`) or name a "
        "module's own tensor (`encoder.pos_embedding`). Torch shapes are inferred from a "
        "(3, 224, 224) input ((3, 299, 299) for inception_v3); Keras shapes from the "
        "model's own `Input`.",
        "",
        "Columns: *static nodes* = IR nodes other than inputs; *real weighted layers* = "
        "layers/modules that own weights; *matched* = those whose static counts are "
        "exactly equal; *equal* columns compare the totals (static − real in parentheses); "
        "*unresolved* = constructs portlint reported it could not follow; *first "
        "divergence* = the first real layer (in model order) whose static counts differ, "
        "are unknown or are missing. **Bold** models are fully extracted: every layer and "
        "both totals exact, no static weights elsewhere. Times are subprocess wall times; "
        "those marked * are cached real-model timings.",
        "",
        "## Summary",
        "",
        *summary_table(results, frameworks),
        "",
        "## What fails and why",
        "",
    ]
    titles = {KERAS: "Keras Applications", TORCH: "torchvision classification models"}
    for framework in frameworks:
        lines += [f"### {titles[framework]}", "", *failure_section(results, framework)]
    for framework in frameworks:
        lines += [f"## {titles[framework]}", "", *model_table(results, framework), ""]
    return "\n".join(lines).rstrip() + "\n"


def results_json(results: list[Result]) -> list[dict[str, Any]]:
    return [{"spec": asdict(r.spec), "static": r.static, "real_cached": r.real_cached,
             "comparison": r.comparison,
             "real": {k: v for k, v in r.real.items() if k != "layers"}} for r in results]


# --- command line --------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure how much of Keras Applications and torchvision's "
                    "classification models portlint extracts, against the real frameworks.")
    parser.add_argument("--framework", choices=[*FRAMEWORKS, "all"], default="all",
                        help="which model zoo to run (default: all)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this model (case-insensitive, so `resnet50` selects "
                             "Keras ResNet50 too unless --framework is given; repeatable)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed to instantiate one real model (default: 300)")
    parser.add_argument("--static-timeout", type=float, default=120.0,
                        help="seconds allowed for one static extraction (default: 120)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="markdown report path, '-' for stdout only "
                             "(default: docs/extraction-coverage.md)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the per-model results as JSON")
    parser.add_argument("--dynamic-cache", type=Path, default=DEFAULT_CACHE, metavar="PATH",
                        help=f"cache of real-framework results (default: {DEFAULT_CACHE})")
    parser.add_argument("--no-cache", dest="dynamic_cache", action="store_const", const=None,
                        help="do not read or write the real-framework cache")
    parser.add_argument("--refresh-dynamic", action="store_true",
                        help="re-instantiate real models even when cached")
    # Internal: one model's work in a subprocess.
    parser.add_argument("--worker", choices=["static", KERAS, TORCH, "list-torch"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    parser.add_argument("--model-name", help=argparse.SUPPRESS)
    parser.add_argument("--model-path", help=argparse.SUPPRESS)
    parser.add_argument("--model-framework", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def reproduce_command(args: argparse.Namespace) -> str:
    parts = ["python scripts/extraction_coverage.py"]
    if args.framework != "all":
        parts.append(f"--framework {args.framework}")
    parts += [f"--only {name}" for name in args.only]
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    frameworks = list(FRAMEWORKS) if args.framework == "all" else [args.framework]
    cache = load_cache(args.dynamic_cache)
    specs: list[ModelSpec] = []
    if KERAS in frameworks:
        specs += keras_models()
    if TORCH in frameworks:
        specs += torch_models(cache, args.timeout)
        save_cache(args.dynamic_cache, cache)
    specs = select(specs, args.only)
    if not specs:
        print("extraction_coverage: no model matches", file=sys.stderr)
        return 2
    revision_at_start = portlint_revision(str(portlint_dir() or REPO))
    results = run_all(specs, args, cache)
    report = render(results, frameworks, reproduce_command(args), revision_at_start)
    if args.output == "-":
        sys.stdout.write(report)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(report, encoding="utf-8")
        print(report)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results_json(results), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
