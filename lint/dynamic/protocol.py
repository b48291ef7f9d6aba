"""The verify worker protocol, shared by the parent (`runner`) and the child (`worker`).

Pure standard library: the parent imports this module and must never import a framework.

One worker process serves one request:

* the parent starts ``python -m portlint.dynamic.worker`` in a new session (process group),
  writes ONE JSON object (the request) to its stdin and closes stdin;
* the worker writes JSON *lines* (events) to its stdout. It moves its own fd 1 onto fd 2 at
  start-up, so anything the user's code prints lands on stderr and cannot corrupt the
  channel. Events, in order:

  - ``{"event": "ready", ...}`` once the frameworks are imported and the memory limit is
    set, just before the user's code runs: the parent starts the ``--timeout`` clock here;
  - ``{"event": "progress", "step": ..., ...}`` (optional, any number; ignored by verify);
  - ``{"event": "result", "ok": true|false, ...}`` exactly once, last. The worker then
    exits at once (``os._exit``) so framework teardown cannot hang the parent.

Request (``"protocol": PROTOCOL``)::

    {"protocol": "portlint-worker/1",
     "models": [{"framework": "keras"|"torch",
                 "path": "/abs/path/model.py",      # the file to import
                 "display_path": "model.py",        # how the user wrote it (messages, spans)
                 "name": "build_model",             # module attribute (the static graph.model)
                 "call": "num_classes=10"|null,     # ARGS text of PATH::NAME(ARGS)
                 "input_shape": [64, 64, 1]|null,   # one sample, the model's own layout
                 "keras_version": 3}],
     "lazy": true,                 # torch: meta device; Keras 3: stateless scope (no weights)
     "memory_limit_mb": 8192|null, # RLIMIT_AS on top of the imported frameworks
     "steps": ["count"],           # run after every model is built, in this order
     "numeric": null,              # `verify --numeric`: the "numeric" step's parameters
     "allow_downloads": false}     # false: no network in the worker (dynamic/network.py)

`verify --numeric` sends ONE request with both models, ``"lazy": false`` (real weights),
``"steps": ["count", "numeric"]`` and (built by `portlint.dynamic.plan`; the frameworks'
weight initialisation is seeded with its "seed" before building)::

    "numeric": {"origin": "keras"|"torch",         # weights are copied from this model
                "seed": 0, "atol": 1e-5, "rtol": 1e-4, "batch": 2,
                "input": {"keras": [8, 8, 3],        # one sample, Keras layout
                          "torch": [3, 8, 8], "to_torch": [2, 0, 1],  # axis order of the port
                          "dtype": "float"|"int", "high": 50}|null,   # int: token ids < high
                "input_problem": null|"why no input can be made",
                "keras_names": [every static Keras layer name],
                "layers": [{"row", "op", "part": null|"depthwise"|"pointwise",
                            "keras": {"name", "type"}, "torch": {"name", "type"},
                            "flatten": {"spatial": [4, 4], "channels": 16}|absent,
                            "cell", "bidirectional", "num_layers", "proj_size" (RNN),
                            "problem": null|"why it cannot be mapped"}, ...],
                "compare": [{"row", "rnn": bool, "note",
                             "keras": {"name", "type", "occurrence", "layout"},
                             "torch": {"name", "type", "occurrence", "layout",
                                       "capture": {...}|absent,  # record at this module
                                       "apply": {"kind", ...}|absent}}, ...],  # F.relu(...)
                "outputs": {"keras_layout", "torch_layout"}}

and its result, ``steps["numeric"]`` (see `portlint.dynamic.numeric`)::

    {"origin", "direction": "keras_to_torch"|"torch_to_keras", "seed", "atol", "rtol",
     "input", "equivalent": bool, "reason": null|str,
     "mapping": [{"row", "keras", "torch", "op", "status": "mapped"|"unmapped", "reason",
                  "comment": {direction: str}, "statements": {direction: [python, ...]},
                  "problems": {direction: [str, ...]}}, ...],
     "randomised": int, "renamed": {static Keras name: built name},
     "layers": [{"row", "keras", "torch", "status": "agrees"|"diverges"|"skipped",
                 "max_abs_error", "max_rel_error", "within_tolerance", "keras_shape",
                 "torch_shape", "reason", "note"}, ...],
     "output": {"max_abs_error", "max_rel_error", "within_tolerance", ...}|null,
     "first_divergence": {one of "layers", or "keras": "(output)" ...}|null,
     "seconds": float}

Result (success)::

    {"event": "result", "ok": true, "protocol": ...,
     "frameworks": {"torch": "2.13.0", ...},
     "models": [{"framework", "name", "type", "mode": "meta"|"cpu"|"stateless"|"eager",
                 "notes": [...], "seconds": float}],          # one per request model
     "steps": {"count": {"models": [COUNTS, ...]}, ...},     # one entry per step
     "peak_rss_kb": int, "memory_limit_bytes": int|null, "seconds": float}

    COUNTS = {"framework": ..., "root": name,
              "total": {...},                                # framework convention, below
              "layers": [{"name", "parent", "type", "counts": {...},
                          "tensors": {tensor name: numel},   # own, counted here
                          "tied": {tensor name: path of its first owner},
                          "sites": [SPAN, ...],              # creation, innermost user frame first
                          "class_site": {"path", "line"}|null}, ...]}  # class in user code
    torch counts: {"parameters", "buffers", "running_stats", "num_batches_tracked",
                   "folded_bias"};  Keras counts: {"trainable", "non_trainable"}

Result (failure)::

    {"event": "result", "ok": false,
     "error": {"kind": KIND, "framework": ..., "message": "one line",
               "exception": "ValueError"|null, "location": SPAN|null,
               "traceback": "..." (only with PORTLINT_DEBUG)}}

    KIND: "framework" (import of torch/keras failed), "import" (the user's file raised),
    "resolve" (NAME missing or not a model), "arguments" (ARGS raised), "build" (the
    constructor/builder raised, or a Keras model could not be built), "download" (the
    code tried to reach the network, which is blocked; the message names what), "memory" (the
    memory limit was hit), "step" (a step raised), "protocol" (bad request),
    "internal" (a portlint bug). The parent adds "timeout", "crash" and "cancelled".

SPAN = {"path", "line", "column", "end_line", "end_column"} (1-based, like findings).
"""

from __future__ import annotations

import re
from typing import Any

PROTOCOL = "portlint-worker/1"
WORKER_MODULE = "portlint.dynamic.worker"

KERAS = "keras"
TORCH = "torch"
LABEL = {KERAS: "Keras", TORCH: "PyTorch"}
BATCH = 2  # samples in the numeric step's random input
INSTALL_HINT = {KERAS: "pip install keras tensorflow", TORCH: "pip install torch"}

ERROR_KINDS = ("framework", "import", "resolve", "arguments", "build", "download", "memory", "step",
               "protocol", "internal", "timeout", "crash", "cancelled")

# Messages of allocation failures across Python, numpy, torch and TensorFlow.
MEMORY_PATTERN = re.compile(
    r"can't allocate memory|cannot allocate memory|out of memory|std::bad_alloc|bad_alloc"
    r"|failed to allocate|unable to allocate|ResourceExhausted|\bOOM\b|MemoryError",
    re.IGNORECASE)


def request(models: list[dict[str, Any]], *, lazy: bool = True,
            memory_limit_mb: int | None = None, steps: tuple[str, ...] = ("count",),
            numeric: dict[str, Any] | None = None, allow_downloads: bool = False) -> dict[str, Any]:
    """A request document (see the module docstring)."""
    return {"protocol": PROTOCOL, "models": models, "lazy": lazy,
            "memory_limit_mb": memory_limit_mb, "steps": list(steps), "numeric": numeric,
            "allow_downloads": allow_downloads}


def model_spec(framework: str, path: str, name: str, *, display_path: str | None = None,
               call: str | None = None, input_shape: tuple | list | None = None,
               keras_version: int = 3, config: dict | None = None,
               keras_package: str | None = None) -> dict[str, Any]:
    """One entry of a request's "models" (`config`: values for a configuration built
    from its defaults, `--torch-config`/`--keras-config`; `keras_package`: the package the
    worker imports as Keras, "keras" when None, "tf_keras" for Hugging Face's TF code)."""
    spec = {"framework": framework, "path": path, "display_path": display_path or path,
            "name": name, "call": call,
            "input_shape": list(input_shape) if input_shape is not None else None,
            "keras_version": keras_version, "config": config}
    if keras_package:
        spec["keras_package"] = keras_package
    return spec


def one_line(text: object, limit: int = 300) -> str:
    """The first non-empty line of `text`, shortened: messages stay one line."""
    for line in str(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""
