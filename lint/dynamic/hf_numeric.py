"""`verify --numeric` on a Hugging Face pair (`TF<X>Model` and `<X>Model`, or two heads).

The static alignment pairs layers by structure and order, which is not enough for weight
transfer in HF models (in BERT's self-attention it pairs the Keras `query` with the torch
`key`); HF's models carry their own pairing, the weight names. So when both built models
derive from transformers' bases, the worker's numeric step maps the weights by name and
module structure (`portlint.dynamic.hf_transfer`, conventions in
`portlint.knowledge.hf_weights`), runs both models on the same random input (token ids,
pixels or audio, from the torch model's `main_input_name` and its configuration) and
compares every output the two `ModelOutput`s share.

The answer has the shape of `portlint.dynamic.numeric`'s (read by
`portlint.dynamic.numeric_answer.interpret`), plus "mapped_by": "names", "input" and
"notes".
"""

from __future__ import annotations

from typing import Any

from .hf_transfer import apply, is_hf_pair, plan, randomise
from .protocol import BATCH, KERAS, TORCH

__all__ = ["is_hf_pair", "hf_numeric_step"]

SEQUENCE = 16  # tokens per sample
IMAGE = 64  # pixels per side when the configuration gives no image size
AUDIO = 4000  # samples of raw audio (input_values)


def input_spec(torch_model: Any) -> tuple[str, dict[str, Any]] | str:
    """The main input's name and its spec (shape without the batch, dtype, high), or why
    it cannot be made."""
    config = torch_model.config
    name = getattr(torch_model, "main_input_name", "input_ids") or "input_ids"
    if name == "input_ids":
        length = min(SEQUENCE, int(getattr(config, "max_position_embeddings", SEQUENCE)
                                   or SEQUENCE))
        high = int(getattr(config, "vocab_size", 0) or 0)
        if high < 2:
            return "the configuration gives no vocab_size for the token ids"
        return name, {"shape": [length], "dtype": "int", "high": high}
    if name == "pixel_values":
        size = getattr(config, "image_size", None) or IMAGE
        height, width = (size, size) if isinstance(size, int) else tuple(size)[:2]
        channels = int(getattr(config, "num_channels", 3) or 3)
        return name, {"shape": [channels, int(height), int(width)], "dtype": "float"}
    if name == "input_values":
        return name, {"shape": [AUDIO], "dtype": "float"}
    return f"verify --numeric does not make inputs named `{name}` for HF models yet"


def make_input(spec: dict[str, Any], rng: Any) -> Any:
    import numpy as np

    shape = (BATCH, *spec["shape"])
    if spec["dtype"] == "int":
        high = spec["high"]
        return rng.integers(min(3, high - 1), high, shape).astype(np.int32)
    return rng.standard_normal(shape).astype(np.float32)


def _arrays(output: Any) -> dict[str, Any]:
    """The tensor entries of a ModelOutput (or a tuple) as numpy arrays, by key."""
    if hasattr(output, "items"):
        items = list(output.items())
    elif isinstance(output, (tuple, list)):
        items = [(f"output[{i}]", v) for i, v in enumerate(output)]
    else:
        items = [("output", output)]
    out = {}
    for key, value in items:
        if hasattr(value, "detach"):
            out[key] = value.detach().cpu().numpy()
        elif hasattr(value, "numpy") and hasattr(value, "shape"):
            out[key] = value.numpy()
    return out


def compare_arrays(keras: Any, torch: Any, atol: float, rtol: float) -> dict[str, Any]:
    """Max abs error, max rel error (the max abs error over the largest magnitude of the
    original's output) and whether every element is within atol + rtol*|original|. The
    original is `keras` here; `hf_numeric_step` swaps the arguments when it is torch."""
    import numpy as np

    if keras.shape != torch.shape:
        return {"status": "differs", "max_abs_error": None, "max_rel_error": None,
                "reason": f"shapes differ: {tuple(keras.shape)} in the original, "
                          f"{tuple(torch.shape)} in the port"}
    a, b = keras.astype(np.float64), torch.astype(np.float64)
    diff = np.abs(a - b)
    worst = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(a).max()) if a.size else 0.0
    ok = bool(np.all(diff <= atol + rtol * np.abs(a))) and bool(np.all(np.isfinite(b)))
    return {"status": "agrees" if ok else "differs", "max_abs_error": worst,
            "max_rel_error": worst / scale if scale else worst, "reason": None}


def hf_numeric_step(ctx: Any, locate: Any = None) -> dict[str, Any]:
    """The numeric step for an HF pair (see the module doc)."""
    import numpy as np

    params = ctx.request.get("numeric") or {}
    keras_model, torch_model = ctx.model(KERAS).model, ctx.model(TORCH).model
    origin = params.get("origin", KERAS)
    seed = int(params.get("seed", 0))
    atol, rtol = float(params.get("atol", 1e-5)), float(params.get("rtol", 1e-4))
    rng = np.random.default_rng(seed)
    answer: dict[str, Any] = {
        "mapped_by": "names", "equivalent": False, "reason": None, "atol": atol, "rtol": rtol,
        "seed": seed, "direction": "keras_to_torch" if origin == KERAS else "torch_to_keras",
        "mapping": [], "layers": [], "output": None, "first_divergence": None, "input": None,
        "notes": []}
    transfers, problems, notes = plan(keras_model, torch_model)
    answer["mapping"] = [t.to_json() for t in transfers] + problems
    answer["notes"] = notes
    if problems:
        answer["reason"] = (f"{len(problems)} tensor(s) could not be mapped by name (first: "
                            f"{problems[0]['keras'] or problems[0]['torch']}: "
                            f"{problems[0]['reason']})")
        return answer
    if not transfers:
        answer["reason"] = "the TF model has no weights to transfer"
        return answer
    made = input_spec(torch_model)
    if isinstance(made, str):
        answer["reason"] = made
        return answer
    name, spec = made
    answer["input"] = {"keras": spec["shape"], "torch": spec["shape"], "dtype": spec["dtype"],
                       "high": spec.get("high"), "name": name}
    randomised = randomise(transfers, origin, rng)
    apply(transfers, origin)
    answer["notes"].append(f"{randomised} of the original's biases, norm scales and "
                           f"statistics randomised before the transfer")
    x = make_input(spec, rng)
    outputs = _run(ctx, keras_model, torch_model, name, x, locate)
    if isinstance(outputs, str):
        answer["reason"] = outputs
        return answer
    keras_out, torch_out = outputs
    shared = [k for k in keras_out if k in torch_out]
    if not shared:
        answer["reason"] = (f"the two models' outputs share no entry (Keras "
                            f"{sorted(keras_out)}, PyTorch {sorted(torch_out)})")
        return answer
    for key in shared:
        pair = (keras_out[key], torch_out[key])
        result = compare_arrays(*(pair if origin == KERAS else pair[::-1]), atol, rtol)
        answer["layers"].append({"keras": key, "torch": key, **result})
    main = answer["layers"][0]
    answer["output"] = {k: main[k] for k in ("max_abs_error", "max_rel_error", "reason")}
    answer["equivalent"] = all(c["status"] == "agrees" for c in answer["layers"])
    first = next((c for c in answer["layers"] if c["status"] != "agrees"), None)
    if first is not None:
        answer["first_divergence"] = {"keras": "(output)", "torch": "(output)",
                                      "max_abs_error": first["max_abs_error"],
                                      "max_rel_error": first["max_rel_error"],
                                      "reason": first.get("reason"),
                                      "note": f"output `{first['keras']}`"}
    return answer


def _run(ctx: Any, keras_model: Any, torch_model: Any, name: str, x: Any,
         locate: Any) -> tuple[dict, dict] | str:
    """Both models' outputs on `x` (inference mode), or why a forward pass failed."""
    torch = ctx.frameworks[TORCH]
    where = locate or (lambda exc: None)

    def failed(label: str, exc: BaseException) -> str:
        at = where(exc)
        at = f" (at {at['path']}:{at['line']})" if at else ""
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return f"the {label} model's forward pass raised {type(exc).__name__}: {text}{at}"

    torch_model.eval()
    xt = torch.from_numpy(x.astype("int64") if x.dtype.kind == "i" else x)
    try:
        with torch.no_grad():
            torch_out = torch_model(**{name: xt})
    except Exception as exc:  # noqa: BLE001 - the model's code; reported
        return failed("PyTorch", exc)
    try:
        keras_out = keras_model({name: x}, training=False)
    except Exception as exc:  # noqa: BLE001
        return failed("Keras", exc)
    return _arrays(keras_out), _arrays(torch_out)
