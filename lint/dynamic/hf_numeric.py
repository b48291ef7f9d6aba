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

from .hf_layers import Recorder, compare_layers, layer_pairs
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
    if name == "input_features" and getattr(config, "num_mel_bins", None) \
            and getattr(config, "max_source_positions", None):  # Whisper's log-mel frames
        return name, {"shape": [int(config.num_mel_bins), 2 * int(config.max_source_positions)],
                      "dtype": "float"}
    return f"verify --numeric does not make inputs named `{name}` for HF models yet"


def extra_inputs(torch_model: Any, rng: Any) -> dict[str, Any]:
    """Inputs both sides need besides the main one, the same array for each: the decoder's
    token ids of an encoder-decoder, and the random `noise` of a masking model (ViTMAE
    shuffles patches by it: each framework's own random draw would differ)."""
    import inspect

    import numpy as np

    config = torch_model.config
    try:
        accepted = inspect.signature(torch_model.forward).parameters
    except (TypeError, ValueError):
        return {}
    extra = {}
    if "decoder_input_ids" in accepted and getattr(config, "is_encoder_decoder", False):
        high = int(getattr(config, "vocab_size", 0) or 0)
        if high > 3:
            extra["decoder_input_ids"] = rng.integers(3, high, (BATCH, 8)).astype(np.int32)
    if "noise" in accepted and getattr(config, "mask_ratio", None) is not None:
        size, patch = getattr(config, "image_size", None), getattr(config, "patch_size", None)
        if isinstance(size, int) and isinstance(patch, int) and patch:
            patches = (size // patch) ** 2
            extra["noise"] = rng.uniform(0, 1, (BATCH, patches)).astype(np.float32)
    return extra


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
    params = ctx.request.get("numeric") or {}
    return check_pair(ctx.model(KERAS).model, ctx.model(TORCH).model, ctx.frameworks[TORCH],
                      origin=params.get("origin", KERAS), seed=int(params.get("seed", 0)),
                      atol=float(params.get("atol", 1e-5)), rtol=float(params.get("rtol", 1e-4)),
                      locate=locate)


def check_pair(keras_model: Any, torch_model: Any, torch: Any, *, origin: str = KERAS,
               seed: int = 0, atol: float = 1e-5, rtol: float = 1e-4,
               locate: Any = None) -> dict[str, Any]:
    """Map, transfer, run and compare two built HF models: the step's answer."""
    import numpy as np

    rng = np.random.default_rng(seed)
    answer: dict[str, Any] = {
        "mapped_by": "names", "equivalent": False, "reason": None, "atol": atol, "rtol": rtol,
        "seed": seed, "direction": "keras_to_torch" if origin == KERAS else "torch_to_keras",
        "mapping": [], "layers": [], "modules": [], "output": None, "first_divergence": None,
        "input": None, "notes": []}
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
    inputs = {name: make_input(spec, rng), **extra_inputs(torch_model, rng)}
    if len(inputs) > 1:
        answer["notes"].append("also given to both: " + ", ".join(
            f"`{k}` {tuple(v.shape)}" for k, v in inputs.items() if k != name))
    recorder = Recorder(layer_pairs(keras_model, torch_model, transfers))
    recorder.install()
    try:
        outputs = _run(torch, keras_model, torch_model, inputs, locate)
    finally:
        recorder.remove()
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
    answer["modules"] = compare_layers(
        recorder, lambda a, b: compare_arrays(a, b, atol, rtol), origin == KERAS)
    first_module = next((c for c in answer["modules"] if c["status"] == "differs"), None)
    first = next((c for c in answer["layers"] if c["status"] != "agrees"), None)
    if first_module is not None and first is not None:
        answer["first_divergence"] = {k: first_module.get(k) for k in (
            "keras", "torch", "max_abs_error", "max_rel_error", "reason", "note")}
    elif first is not None:
        answer["first_divergence"] = {"keras": "(output)", "torch": "(output)",
                                      "max_abs_error": first["max_abs_error"],
                                      "max_rel_error": first["max_rel_error"],
                                      "reason": first.get("reason"),
                                      "note": f"output `{first['keras']}`"}
    return answer


def _run(torch: Any, keras_model: Any, torch_model: Any, inputs: dict[str, Any],
         locate: Any) -> tuple[dict, dict] | str:
    """Both models' outputs on `inputs` (inference mode), or why a forward pass failed."""
    where = locate or (lambda exc: None)

    def failed(label: str, exc: BaseException) -> str:
        at = where(exc)
        at = f" (at {at['path']}:{at['line']})" if at else ""
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return f"the {label} model's forward pass raised {type(exc).__name__}: {text}{at}"

    torch_model.eval()
    tensors = {k: torch.from_numpy(x.astype("int64") if x.dtype.kind == "i" else x)
               for k, x in inputs.items()}
    try:
        with torch.no_grad():
            torch_out = torch_model(**tensors)
    except Exception as exc:  # noqa: BLE001 - the model's code; reported
        return failed("PyTorch", exc)
    try:
        keras_out = keras_model(dict(inputs), training=False)
    except Exception as exc:  # noqa: BLE001
        return failed("Keras", exc)
    return _arrays(keras_out), _arrays(torch_out)
