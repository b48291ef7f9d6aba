"""`--instantiate`: build a Hugging Face pair for real and count its parameters, so that the
static totals can be checked against the instantiated ones.

The parent (`instantiate`) runs this file as a child, one per pair, in the interpreter
given (it needs transformers, torch and TensorFlow; the harness itself does not), in an
empty working directory, offline, with a timeout and a memory bound. The child builds each
side from its configuration class's defaults, with the overrides given applied to the
config and to every sub-config (`text_config`, `vision_config`, ...) that has the key,
builds the TF model on its dummy inputs, and prints one JSON line per side as soon as that
side is done (so a side that crashes the process does not take the other's count along):

    {"side": "torch", "parameters": int, "buffers": int, "seconds": float, "applied": [...]}
    {"side": "keras", "parameters": int, "trainable": int, "seconds": float, ...}
    {"side": ..., "error": "first line of the exception"}

Counts are the frameworks' own: torch `sum(p.numel() for p in model.parameters())` (shared
tensors once), Keras `count_params()` (trainable and non-trainable weights).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
             "CUDA_VISIBLE_DEVICES": "", "TRANSFORMERS_VERBOSITY": "error",
             "TF_ENABLE_ONEDNN_OPTS": "0"}


def available(python: str) -> str | None:
    """None when `python` can import transformers, torch and TensorFlow; else why not."""
    probe = "import transformers, torch, tensorflow; print(transformers.__version__)"
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True,
                              timeout=300, env={**os.environ, **CHILD_ENV})
    except subprocess.TimeoutExpired:
        return f"{python}: importing transformers, torch and tensorflow took over 300 s"
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        return f"{python}: {lines[-1] if lines else 'cannot import transformers/torch/tensorflow'}"
    return None


def module_name(path: str) -> str:
    """transformers/models/bert/modeling_bert.py -> transformers.models.bert.modeling_bert"""
    return path[:-len(".py")].replace("/", ".").replace(os.sep, ".")


def instantiate(python: str, tf_file: str, tf_class: str, torch_file: str, torch_class: str,
                overrides: dict, timeout: float, memory_mb: int) -> dict:
    """Both sides' instantiated counts: {"torch": {...}, "keras": {...}, "seconds": s}."""
    job = {"torch": [module_name(torch_file), torch_class],
           "keras": [module_name(tf_file), tf_class],
           "overrides": overrides, "memory_mb": memory_mb}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hf-ports-") as cwd:
        try:
            done = subprocess.run([python, str(Path(__file__).resolve()), json.dumps(job)],
                                  cwd=cwd, capture_output=True, timeout=timeout,
                                  env={**os.environ, **CHILD_ENV})
            stdout, code = done.stdout.decode("utf-8", "replace"), done.returncode
            stderr = done.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as stop:
            stdout = (stop.stdout or b"").decode("utf-8", "replace")
            code, stderr = None, ""
    out: dict = {"seconds": round(time.perf_counter() - start, 2)}
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            out[entry.pop("side")] = entry
    for side in ("torch", "keras"):
        if side not in out:
            why = (f"timed out after {timeout:g} s" if code is None
                   else f"child ended with {_ended(code)}: {_last_line(stderr)}")
            out[side] = {"error": why}
    return out


def _ended(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit {code}"


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no message (memory limit?)"


def compare_counts(static: dict | None, built: dict) -> dict:
    """match / mismatch / unknown of each side's static total against the built count."""
    out = {}
    for side in ("keras", "torch"):
        total = (static or {}).get(side) or {}
        value, got = total.get("value"), (built.get(side) or {}).get("parameters")
        if got is None or value is None:
            out[side] = "unknown"
        elif value == got and not total.get("partial"):
            out[side] = "match"
        else:
            out[side] = "mismatch" + (" (static partial)" if total.get("partial") else "")
    return out


# --------------------------------------------------------------------------- the child


def _apply(config, overrides: dict, applied: list[str], prefix: str = "") -> None:
    from transformers import PretrainedConfig

    for key, value in overrides.items():
        if hasattr(config, key):
            setattr(config, key, value)
            applied.append(prefix + key)
    for name, sub in list(vars(config).items()):
        if isinstance(sub, PretrainedConfig):
            _apply(sub, overrides, applied, f"{prefix}{name}.")


def _limit_memory(megabytes: int) -> None:
    """RLIMIT_AS = what is mapped now (interpreter and frameworks) + `megabytes`."""
    import resource

    if megabytes <= 0:
        return
    with open("/proc/self/status") as status:
        vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    limit = vm + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _build(side: str, module: str, cls_name: str, overrides: dict) -> dict:
    import importlib

    start = time.perf_counter()
    cls = getattr(importlib.import_module(module), cls_name)
    config = cls.config_class()
    applied: list[str] = []
    _apply(config, overrides, applied)
    if side == "torch":
        model = cls(config)
        out = {"parameters": sum(p.numel() for p in model.parameters()),
               "buffers": sum(b.numel() for b in model.buffers())}
    else:
        model = cls(config)
        model(model.dummy_inputs, training=False)
        trainable = sum(int(w.shape.num_elements()) for w in model.trainable_weights)
        out = {"parameters": int(model.count_params()), "trainable": trainable}
    del model
    out.update(seconds=round(time.perf_counter() - start, 2), applied=applied)
    return out


def child(job: dict) -> int:
    import torch  # noqa: F401  (imported before the limit: the frameworks' own mappings)
    import tensorflow  # noqa: F401
    import transformers  # noqa: F401

    _limit_memory(job.get("memory_mb") or 0)
    for side in ("torch", "keras"):
        module, cls_name = job[side]
        try:
            entry = _build(side, module, cls_name, job.get("overrides") or {})
        except BaseException as error:  # noqa: BLE001  (any failure is this side's result)
            message = (str(error).strip().splitlines() or [""])[0][:300]
            entry = {"error": f"{type(error).__name__}: {message}"}
        print(json.dumps({"side": side, **entry}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(child(json.loads(sys.argv[1])))
