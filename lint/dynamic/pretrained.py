"""verify never loads pretrained weights: an entry point whose signature would load them by
default (Keras Applications' `weights="imagenet"`, torchvision's `weights_backbone=`, the
older `pretrained=True` idiom) is called with them turned off, unless ARGS set them.

Counting needs no weights and `--numeric` copies the original's into the port; a download
would only make verify slow and dependent on a server (the network is blocked anyway,
`network.py`). Runs in the worker process; pure standard library.
"""

from __future__ import annotations

import inspect
from typing import Any

# Parameter -> the value that turns the loading off.
NO_PRETRAINED: dict[str, Any] = {"weights": None, "pretrained": False,
                                 "weights_backbone": None, "pretrained_backbone": False}


def without_pretrained(value: Any, args: tuple, kwargs: dict) -> tuple[dict[str, Any], list[str]]:
    """The keyword arguments that turn pretrained loading off for `value(*args, **kwargs)`,
    and a note for each."""
    try:
        signature = inspect.signature(value)
        given = signature.bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        return {}, []
    extra: dict[str, Any] = {}
    notes: list[str] = []
    for name, off in NO_PRETRAINED.items():
        param = signature.parameters.get(name)
        if param is None or name in given or param.kind is param.POSITIONAL_ONLY \
                or param.default is param.empty or _same(param.default, off):
            continue
        extra[name] = off
        notes.append(f"built with {name}={off!r}: its default {_shown(param.default)} would load "
                     f"pretrained weights, which verify never does")
    return extra, notes


def _same(default: Any, off: Any) -> bool:
    try:
        return default is off or (type(default) is type(off) and bool(default == off))
    except Exception:  # noqa: BLE001 - a default with an odd __eq__
        return False


def _shown(default: Any) -> str:
    text = repr(default)
    return text if len(text) <= 60 else text[:57] + "..."
