"""`portlint verify A B`: the static comparison, then both models built in worker
subprocesses, their counts reconciled with the static extraction and across frameworks.

The parent process never imports a framework nor the user's code: `compare()` is static,
and everything that runs the user's code is in `portlint.dynamic.worker`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

from .. import ir
from ..frontend.hf_config import overrides_of
from ..compare import Options, PairResult, compare
from ..errors import InputError
from ..findings import Finding
from ..frontend import ModelRef
from . import protocol
from .count_findings import findings
from .plan import DEFAULT_ATOL, DEFAULT_RTOL, DEFAULT_SEED, interpret, numeric_request
from .reconcile import SideResult, across, layer_rows, reconcile_side
from .runner import run_workers

DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_LIMIT_MB = 8192


@dataclass(frozen=True)
class VerifyOptions:
    keras_version: int = 3
    input_shape: tuple | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT  # seconds of the user's code, per model
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB  # on top of the framework; None: none
    lazy: bool = True  # meta device / Keras stateless scope
    numeric: bool = False  # transfer the weights and compare the outputs (one worker)
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    seed: int = DEFAULT_SEED
    allow_downloads: bool = False  # let the worker reach the network (it never does otherwise)
    keras_config: str | None = None  # --keras-config values (canonical JSON), static side
    torch_config: str | None = None


class VerifyError(InputError):
    """Building a model failed (exit 2, one line)."""

    def __init__(self, message: str, kind: str, framework: str | None = None):
        super().__init__(message)
        self.kind, self.framework = kind, framework


@dataclass
class VerifyResult:
    pair: PairResult
    keras: SideResult
    torch: SideResult
    across: dict[str, Any]
    workers: dict[str, dict[str, Any]]  # framework -> the worker's result record
    notes: list[str] = field(default_factory=list)
    numeric: dict[str, Any] | None = None  # SPEC "numeric" (verify --numeric)
    numeric_answer: dict[str, Any] | None = None  # the worker's numeric step result
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # framework -> model spec

    @property
    def findings(self) -> list[Finding]:
        return self.pair.findings

    def side(self, framework: str) -> SideResult:
        return self.keras if framework == ir.KERAS else self.torch

    def dynamic_json(self) -> dict[str, Any]:
        k, t = self.keras.total, self.torch.total
        keras = {"trainable": k["trainable"], "non_trainable": k["non_trainable"],
                 "total": k["trainable"] + k["non_trainable"],
                 "static_agrees": static_agrees(self.keras),
                 "build": build_json(self.workers[ir.KERAS], ir.KERAS)}
        torch = {"parameters": t["parameters"], "buffers": t["buffers"],
                 "running_stats": t["running_stats"],
                 "num_batches_tracked": t["num_batches_tracked"],
                 "folded_bias": t["folded_bias"],
                 "static_agrees": static_agrees(self.torch),
                 "build": build_json(self.workers[ir.TORCH], ir.TORCH)}
        return {"keras": keras, "torch": torch, "reconciled": self.across["reconciled"],
                "layers": layer_rows(self.pair.alignment, self.keras, self.torch),
                "notes": list(self.notes)}

    def to_json(self) -> dict[str, Any]:
        out = {**self.pair.to_json(), "dynamic": self.dynamic_json()}
        if self.numeric is not None:
            out["numeric"] = self.numeric
        return out

    @property
    def failing(self) -> bool:
        """`--numeric` found the models not equivalent (exit code 1)."""
        return self.numeric is not None and not self.numeric["equivalent"]


def static_agrees(side: SideResult) -> bool:
    """No layer differs and the static totals equal the built ones (when known)."""
    if side.mismatches:
        return False
    if not side.graph.counts_known():
        return False
    from .reconcile import compared, static_as_dynamic

    static = static_as_dynamic(side.framework, side.graph.total_counts())
    return compared(side.framework, static) == compared(side.framework, side.total)


def build_json(record: dict[str, Any], framework: str) -> dict[str, Any]:
    """How a model was built: deterministic facts only (no timings) for the JSON."""
    model = record["models"][0]
    return {"mode": model["mode"], "version": record["frameworks"].get(framework),
            "allocated_weights": model["mode"] in ("cpu", "eager")}


# --------------------------------------------------------------------------- rules


def _catalogue() -> tuple[type, ...]:
    from ..rules.registry import verify_rules

    return verify_rules()


def _matches(rule: type, patterns: tuple[str, ...]) -> bool:
    from ..rules.registry import matches

    return any(matches(p, rule) for p in patterns)


def check_selectors(options: VerifyOptions) -> None:
    from ..rules.registry import unknown_selectors

    unknown = unknown_selectors((*options.select, *options.ignore), _catalogue())
    if unknown:
        raise InputError(f"unknown rule selector: {', '.join(unknown)} (see `portlint rule`)")


def selected(finding: Finding, options: VerifyOptions) -> bool:
    rule = next((r for r in _catalogue() if r.code == finding.code), None)
    if rule is None:
        return True
    if options.select and not _matches(rule, options.select):
        return False
    return not _matches(rule, options.ignore)


# --------------------------------------------------------------------------- verify


def verify(origin: str, port: str, options: VerifyOptions = VerifyOptions()) -> VerifyResult:
    """Static comparison, then the dynamic counts. Raises InputError (exit 2) on bad input
    and VerifyError when a model cannot be built."""
    check_selectors(options)
    pair = compare(origin, port, Options(keras_version=options.keras_version,
                                         input_shape=options.input_shape,
                                         keras_config=options.keras_config,
                                         torch_config=options.torch_config))
    refs = {pair.port_framework: pair.port, pair.origin_framework: pair.origin}
    order = [pair.origin_framework, pair.port_framework]  # argument order
    specs = {f: model_spec(pair.alignment.graph(f), refs[f], options) for f in order}
    params = None
    if options.numeric:
        # Both models built for real in ONE worker, so that the numeric step sees both.
        params = numeric_request(pair.alignment, pair.origin_framework, seed=options.seed,
                                 atol=options.atol, rtol=options.rtol)
        request = protocol.request([specs[ir.KERAS], specs[ir.TORCH]], lazy=False,
                                   memory_limit_mb=options.memory_limit_mb,
                                   steps=("count", "numeric"), numeric=params,
                                   allow_downloads=options.allow_downloads)
        [record] = run_workers([request], timeout=options.timeout * 2)
        if not record.get("ok"):
            error = record["error"]
            framework = error.get("framework") or pair.port_framework
            raise VerifyError(error_message(refs[framework], framework, error, record, options),
                              error.get("kind", "internal"), framework)
        records = {f: per_framework(record, f) for f in order}
    else:
        requests = [protocol.request([specs[f]], lazy=options.lazy,
                                     memory_limit_mb=options.memory_limit_mb,
                                     allow_downloads=options.allow_downloads) for f in order]
        records = dict(zip(order, run_workers(requests, timeout=options.timeout), strict=True))
        failed = [f for f in order if not records[f].get("ok")
                  and records[f]["error"].get("kind") != "cancelled"]
        if failed:
            framework = failed[0]
            error = records[framework]["error"]
            raise VerifyError(error_message(refs[framework], framework, error, records[framework],
                                            options), error.get("kind", "internal"), framework)

    sides = {}
    for framework in order:
        record = records[framework]
        counts = record["steps"]["count"]["models"][0]
        build = record["models"][0]
        sides[framework] = reconcile_side(framework, pair.alignment.graph(framework), counts,
                                          build)
    keras, torch = sides[ir.KERAS], sides[ir.TORCH]
    from ..rules.dynamic import StaticDynamicCountMismatch

    rule = StaticDynamicCountMismatch()
    new = findings(keras, pair.alignment, rule) + findings(torch, pair.alignment, rule)
    pair.findings = sorted((f for f in [*pair.findings, *new] if selected(f, options)),
                           key=Finding.sort_key)
    notes = []
    for framework in order:
        label = protocol.LABEL[framework]
        notes += [f"{label}: {note}" for note in records[framework]["models"][0]["notes"]]
        notes += sides[framework].notes
    result = VerifyResult(pair, keras, torch, across(keras.total, torch.total), records, notes,
                          specs=specs)
    if params is not None:
        answer = records[pair.port_framework]["steps"]["numeric"]
        result.numeric_answer = answer
        result.numeric = interpret(pair.alignment, pair.findings, params, answer)
        notes.append("--numeric: both models were built with real weights in one worker "
                     "(its peak RSS is shown for each)")
    if not result.across["reconciled"]:
        from ..compare import totals

        if totals(pair.alignment).get("reconciled"):
            notes.append("the built models' counts do not reconcile although the static ones "
                         "do: the static-dynamic-count-mismatch findings show where the "
                         "extraction went wrong")
        else:
            notes.append("the built models' counts do not reconcile under the conventions, as "
                         "the static analysis found (param-count-mismatch, missing-layer)")
    return result


def per_framework(record: dict[str, Any], framework: str) -> dict[str, Any]:
    """One framework's view of a worker record that built both models (verify --numeric):
    shaped like the record of a worker that built only that model."""
    models = [m for m in record["models"] if m["framework"] == framework]
    counts = [c for c in record["steps"]["count"]["models"] if c["framework"] == framework]
    return {**record, "models": models,
            "steps": {**record["steps"], "count": {"models": counts}}}


def write_mapping(result: VerifyResult, path: str) -> None:
    """`--emit-mapping`: the weight mapping `--numeric` used, as a standalone script,
    written atomically (a temporary file in the same directory, then os.replace)."""

    from .. import __version__
    from .mapping_script import render_script

    if result.numeric_answer is None:
        raise InputError("--emit-mapping needs the numeric step's mapping (--numeric)")
    if result.numeric_answer.get("mapped_by") == "names":
        raise InputError("--emit-mapping does not write the name-based mapping of a Hugging "
                         "Face pair yet (the Numeric check lists what it transferred)")
    sides = {}
    for framework in (ir.KERAS, ir.TORCH):
        spec = result.specs[framework]
        sides[framework] = {"path": spec["path"], "shown": spec["display_path"],
                            "name": spec["name"], "call": spec.get("call"),
                            "input_shape": spec.get("input_shape")}
    text = render_script(result.numeric_answer, sides[ir.KERAS], sides[ir.TORCH],
                         result.pair.origin_framework, __version__)
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    try:
        from ..tempfiles import create

        handle, tmp = create(os.path.join(directory, os.path.basename(target)))
    except OSError as exc:
        raise InputError(f"--emit-mapping {path}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise InputError(f"--emit-mapping {path}: {exc.strerror}") from None


def model_spec(graph: ir.Graph, ref: ModelRef, options: VerifyOptions) -> dict[str, Any]:
    shape = None
    if graph.inputs and graph.nodes[graph.inputs[0]].out_shape is not None:
        shape = graph.nodes[graph.inputs[0]].out_shape
    elif graph.input_shape:
        shape = graph.input_shape
    if shape is not None and not all(d is None or isinstance(d, int) for d in shape):
        shape = None
    return protocol.model_spec(graph.framework, os.path.abspath(ref.path), graph.model,
                               display_path=graph.path, call=ref.call, input_shape=shape,
                               keras_version=options.keras_version,
                               config=overrides_of(options.keras_config,
                                                   options.torch_config).get(graph.framework),
                               keras_package=keras_package(graph.framework, ref.path))


def keras_package(framework: str, path: str) -> str | None:
    """"tf_keras" for a Keras file in Hugging Face's TF style (read, never imported)."""
    if framework != ir.KERAS:
        return None
    from ..knowledge.hf_weights import needs_tf_keras

    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return "tf_keras" if needs_tf_keras(stream.read()) else None
    except OSError:
        return None


def _at(error: dict[str, Any]) -> str:
    loc = error.get("location")
    if not loc:
        return ""
    if loc.get("cell") is not None:
        return f" (at {loc['path']}:cell {loc['cell']}:{loc['cell_line']})"
    return f" (at {loc['path']}:{loc['line']})"


def error_message(ref: ModelRef, framework: str, error: dict[str, Any], record: dict[str, Any],
                  options: VerifyOptions) -> str:
    """The one-line message for a worker error."""
    label = protocol.LABEL[framework]
    kind, message = error.get("kind"), protocol.one_line(error.get("message", ""), 400)
    module = "torch" if framework == ir.TORCH else "keras"
    limit = options.memory_limit_mb
    if kind == "framework":
        return (f"{ref}: verify needs {label} to build this model, but `import {module}` failed "
                f"in {sys.executable}: {message} (install it: "
                f"{protocol.INSTALL_HINT[framework]})")
    if kind == "import":
        return f"{ref}: importing {ref.path} failed: {message}{_at(error)}"
    if kind == "arguments":
        return f"{ref}: {message}{_at(error)}"
    if kind == "resolve":
        return f"{ref}: {message}"
    if kind == "build":
        return f"{ref}: building the {label} model failed: {message}{_at(error)}"
    if kind == "download":
        return (f"{ref}: building the {label} model needs the network: {message}{_at(error)}; "
                f"verify blocks downloads (counting and comparing need no pretrained "
                f"weights): pass --allow-downloads to permit them")
    if kind == "memory":
        bound = f"the memory limit of {limit} MB (--memory-limit)" if limit else "the available memory"
        return f"{ref}: building the {label} model exceeded {bound}: {message}{_at(error)}"
    if kind == "timeout":
        if "importing" in message:
            return f"{ref}: {message} ({label} worker)"
        return (f"{ref}: building the {label} model did not finish within {options.timeout:g} s "
                f"(--timeout)")
    if kind == "crash":
        hint = ""
        if error.get("signal") is not None or "bad_alloc" in message or "memory" in message.lower():
            hint = (f"; it may have exceeded the memory limit of {limit} MB (--memory-limit)"
                    if limit else "; it may have run out of memory")
        return f"{ref}: the {label} worker {message}{hint}"
    if kind == "step":
        return f"{ref}: {message}{_at(error)}"
    return (f"internal error in the verify worker for {ref}: {message} (please report; "
            f"PORTLINT_DEBUG=1 shows details)")
