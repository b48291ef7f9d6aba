"""The verify worker: the only place where portlint imports a framework and runs user code.

Run as ``python -m portlint.dynamic.worker`` by `portlint.dynamic.runner`; the protocol
(request on stdin, JSON-line events on stdout) is described in `portlint.dynamic.protocol`.

What it does for each model of the request:

1. import the framework (torch, or keras with its backend) before any user code;
2. set the memory limit (RLIMIT_AS = address space after the imports + the limit), emit
   the "ready" event;
3. import the user's file by path (its directory first on sys.path, so sibling imports
   work), look up NAME, evaluate ARGS in the module's namespace and build the model:
   torch under ``with torch.device("meta")`` (no weight is materialised), Keras 3 inside
   ``StatelessScope(initialize_variables=False)``, where ``add_weight`` only records each
   variable's shape and initializer (no allocation). When that fails the model is built
   again the ordinary way, with a note;
4. run the requested steps (`STEPS`) over the built models, then report.

Steps: a step is a function ``step(ctx) -> dict`` registered in `STEPS` under the name
the request lists in "steps" ("count", and "numeric" for ``verify --numeric``); it receives the
`WorkerContext` (the request, the built models with their live objects and framework
modules, `emit` for progress events) after every model is built. A numeric step needs
real weights: send ``"lazy": false`` (or materialise: ``model.to_empty(device="cpu")`` for
torch, `keras.src.backend.common.variables.initialize_all_variables()` for Keras) and both
models in one request, with its parameters in the request's "numeric" object.

This module is the request loop; the jobs live beside it: `failures` (error records),
`sites` (the user's files and spans), `loader` (importing the user's file, NAME(ARGS)),
`building` (the builders per framework) and `counting` (the "count" step).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
from types import ModuleType
from typing import Any, Callable

from . import network
from .building import BUILDERS, WorkerContext
from .counting import count_step
from .failures import Failure, describe, is_memory_error
from .protocol import KERAS, PROTOCOL, TORCH
from .sites import SiteRecorder, UserFiles, innermost_user_frame


# --------------------------------------------------------------------------- steps


def numeric_step(ctx: WorkerContext) -> dict[str, Any]:
    """`verify --numeric`: copy the original's weights into the port along the alignment
    and compare the outputs layer by layer (`portlint.dynamic.numeric`)."""
    missing = [f for f in (KERAS, TORCH) if f not in ctx.frameworks]
    if missing or any(m.mode in ("meta", "stateless") for m in ctx.models):
        raise Failure("protocol", "the numeric step needs a Keras and a torch model built with "
                                  "real weights in one request (\"lazy\": false)")
    from .hf_numeric import hf_numeric_step, is_hf_pair
    from .numeric import numeric_step as run

    locate = lambda exc: innermost_user_frame(ctx.sites.files, exc)  # noqa: E731
    if is_hf_pair(ctx.model(KERAS).model, ctx.model(TORCH).model):
        return hf_numeric_step(ctx, locate=locate)  # weights paired by name, not alignment
    return run(ctx, locate=locate)


# name -> step(ctx) -> JSON-able dict, run in the order the request lists them.
STEPS: dict[str, Callable[[WorkerContext], dict[str, Any]]] = {"count": count_step,
                                                               "numeric": numeric_step}


def seed_frameworks(frameworks: dict[str, ModuleType], seed: int) -> None:
    """Seed the weight initialisation (a numeric request: reproducible errors)."""
    import random

    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    if TORCH in frameworks:
        frameworks[TORCH].manual_seed(seed)
    if KERAS in frameworks:
        frameworks[KERAS].utils.set_random_seed(seed)


# --------------------------------------------------------------------------- main


def import_framework(framework: str, package: str | None = None) -> ModuleType:
    """torch, or the Keras package the model's code uses (`keras`; `tf_keras`, Keras 2, for
    Hugging Face's TF models: transformers' TF code does not run under Keras 3)."""
    name = "torch" if framework == TORCH else (package or "keras")
    if name == "tf_keras":
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        module = importlib.import_module(name)
        # Keras imports its backend lazily in places: make a missing one fail here.
        _ = module.layers if framework == KERAS else module.nn
        return module
    except BaseException as exc:  # noqa: BLE001 - anything: broken installs raise oddly
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise Failure("framework", describe(exc), framework=framework, exc=exc) from None


def address_space() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def set_memory_limit(megabytes: int | None) -> int | None:
    """RLIMIT_AS = what the process maps now (interpreter + frameworks) + the limit. Both
    soft and hard, so the user's code cannot raise it."""
    if not megabytes:
        return None
    limit = address_space() + int(megabytes) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def validate(req: Any) -> dict[str, Any]:
    if not isinstance(req, dict) or req.get("protocol") != PROTOCOL:
        raise Failure("protocol", f"expected a {PROTOCOL} request")
    models = req.get("models")
    if not isinstance(models, list) or not models:
        raise Failure("protocol", "the request names no model")
    for spec in models:
        if not isinstance(spec, dict) or spec.get("framework") not in BUILDERS \
                or not isinstance(spec.get("path"), str) or not isinstance(spec.get("name"), str):
            raise Failure("protocol", f"bad model entry: {spec!r}"[:200])
        spec.setdefault("display_path", spec["path"])
    unknown = [s for s in req.get("steps", []) if s not in STEPS]
    if unknown:
        raise Failure("protocol", f"unknown step(s): {', '.join(map(str, unknown))}")
    return req


def build_and_run(req: dict[str, Any], ctx: WorkerContext, lazy: bool) -> dict[str, Any]:
    for spec in req["models"]:
        ctx.models.append(BUILDERS[spec["framework"]](spec, ctx, lazy))
    steps: dict[str, Any] = {}
    for name in req.get("steps", []):
        try:
            steps[name] = STEPS[name](ctx)
        except Failure:
            raise
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            kind = "memory" if is_memory_error(exc) else "step"
            raise Failure(kind, f"step `{name}` failed: {describe(exc)}", exc=exc,
                          location=innermost_user_frame(ctx.sites.files, exc)) from None
    return steps


def download_failure(framework: str | None, location: dict | None) -> Failure | None:
    """A "download" failure when the user's code tried to reach the network."""
    attempt = network.first_attempt()
    if attempt is None:
        return None
    return Failure("download", network.describe_attempt(attempt), framework=framework,
                   location=location)


def serve(req: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    start = time.perf_counter()
    req = validate(req)
    if not req.get("allow_downloads"):
        network.block()  # before the frameworks: they may bind urllib/socket names at import
    frameworks: dict[str, ModuleType] = {}
    for spec in req["models"]:
        if spec["framework"] not in frameworks:
            frameworks[spec["framework"]] = import_framework(spec["framework"],
                                                             spec.get("keras_package"))
    files = UserFiles([(os.path.abspath(s["path"]), s["display_path"]) for s in req["models"]])
    sites = SiteRecorder(files)
    try:
        if TORCH in frameworks:
            sites.install(frameworks[TORCH].nn.Module)
        if KERAS in frameworks:
            sites.install_new(frameworks[KERAS].layers.Layer)
    except Exception:  # noqa: BLE001 - sites are a convenience; counting does not need them
        pass
    limit = set_memory_limit(req.get("memory_limit_mb"))
    emit({"event": "ready", "pid": os.getpid(),
          "frameworks": {f: str(getattr(m, "__version__", "?")) for f, m in frameworks.items()},
          "memory_limit_bytes": limit, "rss_kb": peak_rss_kb()})
    ctx = WorkerContext(req, frameworks, [], sites, emit)
    lazy = bool(req.get("lazy", True))
    if isinstance(req.get("numeric"), dict):
        seed_frameworks(frameworks, int(req["numeric"].get("seed", 0)))
    try:
        steps = build_and_run(req, ctx, lazy)
    except Failure as failure:
        raise download_failure(failure.framework, failure.location) or failure from None
    blocked = download_failure(req["models"][-1]["framework"], None)
    if blocked is not None:  # the code caught the refusal: its model may not be the real one
        raise blocked
    return {"event": "result", "ok": True, "protocol": PROTOCOL,
            "frameworks": {f: str(getattr(m, "__version__", "?")) for f, m in frameworks.items()},
            "models": [m.summary() for m in ctx.models], "steps": steps,
            "peak_rss_kb": peak_rss_kb(), "memory_limit_bytes": limit,
            "seconds": round(time.perf_counter() - start, 3)}


def main() -> None:
    # The protocol channel is the original stdout; the user's prints go to stderr.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # `-m` put the current directory first on sys.path: move it last, so that a folder
    # named like a framework cannot shadow it (the model's own folder goes first later).
    cwd = os.getcwd()
    if sys.path and sys.path[0] in ("", cwd):
        sys.path.pop(0)
        sys.path.append(cwd)

    def emit(event: dict[str, Any]) -> None:
        channel.write(json.dumps(event) + "\n")
        channel.flush()

    try:
        req = json.loads(sys.stdin.read() or "null")
        result = serve(req, emit)
    except json.JSONDecodeError as exc:
        result = {"event": "result", "ok": False,
                  "error": Failure("protocol", f"the request is not JSON: {exc}").record()}
    except Failure as failure:
        result = {"event": "result", "ok": False, "error": failure.record()}
    except MemoryError as exc:
        result = {"event": "result", "ok": False,
                  "error": Failure("memory", describe(exc), exc=exc).record()}
    except BaseException as exc:  # noqa: BLE001 - a portlint bug; report, don't hang
        result = {"event": "result", "ok": False,
                  "error": Failure("internal", describe(exc), exc=exc).record()}
    result["peak_rss_kb"] = peak_rss_kb()
    try:
        emit(result)
    except BaseException:  # noqa: BLE001 - the parent is gone
        pass
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()