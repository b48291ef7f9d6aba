"""The `numeric` step of the verify worker (`portlint verify --numeric`).

Runs inside the worker (`portlint.dynamic.worker.STEPS["numeric"]`), after both models of
the request were built with real weights (``"lazy": false``). The request's "numeric"
object (built by `portlint.dynamic.plan` from the static alignment) says which layers pair
up and how to convert their weights, which layers to compare, and the input. The step:

1. finds each aligned layer in the built models (Keras: by name, nested layers included,
   else the next unclaimed layer of the same class; torch: by module path);
2. gives the original model's biases, normalization scales/shifts and running statistics
   random values (seeded), so that zero/one defaults cannot hide a difference (a swapped
   gate bias, a missing BN shift);
3. copies the original's weights into the port with the statements of
   `portlint.dynamic.mapping` (the ones `--emit-mapping` writes), pair by pair; a pair
   that cannot be mapped (no counterpart, a tensor without destination, a shape that does
   not fit) ends the step without comparing: the result says which and why;
4. runs both models in inference mode (Keras ``training=False``; torch ``eval()`` and
   ``no_grad``) on one seeded random batch (the torch input in the port's layout), records
   the outputs of the compared layers (Keras: the layer's ``call`` wrapped on the instance
   for the run; torch: forward hooks) and compares them, converted to the Keras layout,
   and the final outputs: |port - original| <= atol + rtol * |original|.

Imports no framework at module level: the worker imports it before building anything.
"""

from __future__ import annotations

import time
from typing import Any

from . import mapping
from .mapping_helpers import HELPERS
from .numeric_transfer import WeightTransfer
from .protocol import KERAS, TORCH

CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"



def numeric_step(ctx: Any, locate: Any = None) -> dict[str, Any]:
    """STEPS["numeric"]: transfer the weights and compare the outputs (see the module doc).
    `locate(exc)`: the user-code SPAN of an exception (the worker's innermost user frame)."""
    import numpy as np

    params = ctx.request.get("numeric") or {}
    run = NumericRun(params, ctx.frameworks[KERAS], ctx.frameworks[TORCH], np,
                     ctx.model(KERAS).model, ctx.model(TORCH).model, locate)
    return run.run()


class ForwardError(Exception):
    """A model's forward pass raised: the models are not equivalent (not a portlint error)."""


class NumericRun(WeightTransfer):
    """One `verify --numeric` run: find the layers and transfer the weights
    (`WeightTransfer`), then run both models and compare their outputs."""

    def __init__(self, params: dict[str, Any], keras: Any, torch: Any, np: Any,
                 keras_model: Any, torch_model: Any, locate: Any = None):
        self.params, self.keras, self.torch, self.np = params, keras, torch, np
        self.keras_model, self.torch_model = keras_model, torch_model
        self.locate = locate or (lambda exc: None)
        self.origin = params.get("origin", KERAS)
        self.direction = mapping.KERAS_TO_TORCH if self.origin == KERAS else mapping.TORCH_TO_KERAS
        self.seed = int(params.get("seed", 0))
        self.rng = np.random.default_rng(self.seed)
        self.atol = float(params.get("atol", 1e-5))
        self.rtol = float(params.get("rtol", 1e-4))
        self.namespace: dict[str, Any] = {"np": np, "torch": torch, "keras": keras}
        exec(HELPERS, self.namespace)  # noqa: S102 - our own helper source
        self.keras_index = self._keras_layers()
        self.claimed = set(params.get("keras_names") or [])
        self.resolved: dict[str, Any] = {}  # static Keras name -> built layer
        self.renamed: dict[str, str] = {}
        self.notes: list[str] = []

    # ------------------------------------------------------------------ running

    def inputs(self) -> tuple[Any, Any]:
        np, torch = self.np, self.torch
        spec = self.params["input"]
        shape = (int(self.params.get("batch", 2)), *[int(d) for d in spec["keras"]])
        if spec.get("dtype") == "int":
            x = self.rng.integers(0, int(spec.get("high") or 2), shape).astype(np.int32)
        else:
            x = self.rng.standard_normal(shape).astype(np.float32)
        perm = spec.get("to_torch")
        xt = x if not perm else np.ascontiguousarray(x.transpose(0, *[p + 1 for p in perm]))
        xt = torch.from_numpy(xt.astype(np.int64) if spec.get("dtype") == "int" else xt)
        return x, xt

    def run_models(self, compare: list[dict[str, Any]]) -> tuple[dict, dict, Any, Any]:
        """Run both models once, recording the compared layers' outputs (first tensor for
        Keras; the whole output, tensors cloned, for torch)."""
        torch = self.torch
        keras_records: dict[int, list] = {}
        torch_records: dict[int, list] = {}
        patched, hooks = [], []
        for item in compare:
            layer = item.get("_keras")
            if layer is not None and id(layer) not in keras_records:
                keras_records[id(layer)] = []
                self._wrap_call(layer, keras_records[id(layer)])
                patched.append(layer)
            module = item.get("_torch")
            if module is not None and id(module) not in torch_records:
                torch_records[id(module)] = []
                sink = torch_records[id(module)]
                hooks.append(module.register_forward_hook(
                    lambda _m, _i, output, sink=sink: sink.append(self._clone(output))))
        x, xt = self.inputs()
        try:
            self.torch_model.eval()
            try:
                with torch.no_grad():
                    torch_out = self.torch_model(xt)
            except Exception as exc:  # noqa: BLE001 - the port's code; reported
                raise ForwardError(self._raised("PyTorch", exc)) from None
            try:
                keras_out = self.keras_model(x, training=False)
            except Exception as exc:  # noqa: BLE001
                raise ForwardError(self._raised("Keras", exc)) from None
        finally:
            for hook in hooks:
                hook.remove()
            for layer in patched:
                try:
                    del layer.call
                except AttributeError:
                    pass
        return keras_records, torch_records, keras_out, torch_out

    def _raised(self, label: str, exc: BaseException) -> str:
        where = self.locate(exc)
        at = f" (at {where['path']}:{where['line']})" if where else ""
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return (f"the {label} model's forward pass on the input raised "
                f"{type(exc).__name__}: {message[:300]}{at}")

    def _wrap_call(self, layer: Any, sink: list) -> None:
        original = layer.call

        def call(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            try:
                sink.append(self.np.array(self.keras.ops.convert_to_numpy(_first(out))))
            except Exception:  # noqa: BLE001 - a symbolic output (inside a tf.function)
                sink.append(None)
            return out

        layer.call = call

    def _clone(self, value: Any) -> Any:
        if isinstance(value, self.torch.Tensor):
            return value.detach().clone()
        if isinstance(value, (tuple, list)):
            return [self._clone(v) for v in value]
        return value

    # ------------------------------------------------------------------ comparing

    def torch_array(self, item: dict[str, Any], value: Any, keras_ndim: int) -> Any:
        torch = self.torch
        if item.get("rnn") and isinstance(value, (tuple, list)) and len(value) >= 2:
            module = item["_torch"]
            out, state = value[0], value[1]
            if isinstance(state, (tuple, list)):
                state = state[0]
            if keras_ndim == 2:
                value = torch.cat([state[-2], state[-1]], dim=-1) \
                    if getattr(module, "bidirectional", False) else state[-1]
            else:
                value = out if getattr(module, "batch_first", False) else out.transpose(0, 1)
        else:
            value = _first(value)
        apply = item["torch"].get("apply")
        if apply:
            value = self.activation(value, apply)
        value = value.detach().cpu().numpy()
        reorder = item["torch"].get("reorder")
        if reorder and value.ndim == 2:  # (N, C*S) in the port's order -> (N, S*C)
            spatial, channels = reorder["spatial"], reorder["channels"]
            value = self.np.moveaxis(value.reshape(value.shape[0], channels, *spatial), 1, -1)
            value = value.reshape(value.shape[0], -1)
        return value

    def activation(self, x: Any, spec: dict[str, Any]) -> Any:
        """The activation the port applies functionally after a layer (F.relu(conv(x)))."""
        torch = self.torch
        f = torch.nn.functional
        kind = spec.get("kind")
        axis = spec.get("axis")
        axis = -1 if axis is None else axis
        table = {
            "relu": f.relu, "relu6": f.relu6, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "silu": f.silu, "selu": f.selu, "softplus": f.softplus, "softsign": f.softsign,
            "mish": f.mish, "hard_swish": f.hardswish, "hard_sigmoid": f.hardsigmoid,
            "linear": lambda v: v, "identity": lambda v: v, "exp": torch.exp,
            "elu": lambda v: f.elu(v, alpha=float(spec.get("alpha", 1.0))),
            "leaky_relu": lambda v: f.leaky_relu(v, float(spec.get("negative_slope", 0.01))),
            "gelu": lambda v: f.gelu(v, approximate="tanh" if spec.get("approximate") in
                                     (True, "tanh") else "none"),
            "softmax": lambda v: f.softmax(v, dim=axis),
            "log_softmax": lambda v: f.log_softmax(v, dim=axis),
        }
        if kind not in table:
            raise KeyError(kind)
        return table[kind](x)

    def to_keras_layout(self, k: Any, t: Any, k_layout: str | None, t_layout: str | None
                        ) -> Any | None:
        """The torch array in the Keras array's layout, or None when it cannot be."""
        np = self.np
        if k_layout == CHANNELS_LAST and t_layout == CHANNELS_FIRST and t.ndim >= 3:
            t = np.moveaxis(t, 1, -1)
        elif k_layout == CHANNELS_FIRST and t_layout == CHANNELS_LAST and t.ndim >= 3:
            t = np.moveaxis(t, -1, 1)
        if t.shape == k.shape:
            return t
        if t.ndim >= 3 and np.moveaxis(t, 1, -1).shape == k.shape:
            return np.moveaxis(t, 1, -1)
        if t.size == k.size and np.squeeze(t).shape == np.squeeze(k).shape:
            return t.reshape(k.shape)
        if t.ndim >= 3 and t.size == k.size and np.squeeze(np.moveaxis(t, 1, -1)).shape \
                == np.squeeze(k).shape:
            return np.moveaxis(t, 1, -1).reshape(k.shape)
        return None

    def errors(self, k: Any, t: Any) -> dict[str, Any]:
        """Errors of the port against the original (the reference)."""
        np = self.np
        k = np.asarray(k, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        ref, other = (k, t) if self.origin == KERAS else (t, k)
        diff = np.abs(other - ref)
        both_nan = np.isnan(other) & np.isnan(ref)
        diff = np.where(both_nan, 0.0, np.nan_to_num(diff, nan=np.inf))
        max_abs = float(diff.max()) if diff.size else 0.0
        scale = float(np.abs(ref).max()) if ref.size else 0.0
        max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
        ok = bool(np.all(diff <= self.atol + self.rtol * np.abs(ref)))
        return {"max_abs_error": _num(max_abs), "max_rel_error": _num(max_rel),
                "within_tolerance": ok}

    def compare(self, items: list[dict[str, Any]], keras_records: dict, torch_records: dict
                ) -> list[dict[str, Any]]:
        out = []
        for item in items:
            result = {"row": item.get("row"), "keras": item["keras"]["name"],
                      "torch": item["torch"]["name"], "note": item.get("note")}
            if item.get("_keras") is not None:
                result["keras"] = item["_keras"].name
            out.append(result)
            if item.get("_skip"):
                result.update(status="skipped", reason=item["_skip"])
                continue
            k_calls = keras_records.get(id(item["_keras"]), [])
            t_calls = torch_records.get(id(item["_torch"]), [])
            k_index = item["keras"].get("occurrence", 0)
            t_index = item["torch"].get("occurrence", 0)
            if k_index >= len(k_calls) or t_index >= len(t_calls):
                which = "Keras layer" if k_index >= len(k_calls) else "torch module"
                result.update(status="skipped", reason=f"the {which} was not called "
                                                        f"{'once' if not k_index else 'that often'} "
                                                        f"by the forward pass")
                continue
            k = k_calls[k_index]
            if k is None:
                result.update(status="skipped", reason="the Keras layer's output could not be "
                                                        "read (a symbolic tensor)")
                continue
            try:
                t = self.torch_array(item, t_calls[t_index], k.ndim)
            except KeyError as exc:
                result.update(status="skipped", reason=f"the port's activation {exc} after "
                                                        f"this layer is not known to portlint")
                continue
            aligned = self.to_keras_layout(k, t, item["keras"].get("layout"),
                                           item["torch"].get("layout"))
            result["keras_shape"] = list(k.shape[1:])
            result["torch_shape"] = list(t.shape[1:])
            if aligned is None:
                result.update(status="diverges", max_abs_error=None, max_rel_error=None,
                              within_tolerance=False,
                              reason=f"the outputs have different shapes: Keras "
                                     f"{tuple(k.shape[1:])}, PyTorch {tuple(t.shape[1:])}")
                continue
            errors = self.errors(k, aligned)
            result.update(errors, status="agrees" if errors["within_tolerance"] else "diverges")
        return out

    def final(self, keras_out: Any, torch_out: Any) -> dict[str, Any]:
        k = self.np.array(self.keras.ops.convert_to_numpy(_first(keras_out)))
        t = _first(torch_out).detach().cpu().numpy()
        outputs = self.params.get("outputs") or {}
        aligned = self.to_keras_layout(k, t, outputs.get("keras_layout"), outputs.get("torch_layout"))
        result = {"keras_shape": list(k.shape[1:]), "torch_shape": list(t.shape[1:])}
        if aligned is None:
            result.update(max_abs_error=None, max_rel_error=None, within_tolerance=False,
                          reason=f"the outputs have different shapes: Keras {tuple(k.shape[1:])}, "
                                 f"PyTorch {tuple(t.shape[1:])}")
            return result
        result.update(self.errors(k, aligned))
        return result

    # ------------------------------------------------------------------ the step

    def run(self) -> dict[str, Any]:
        start = time.perf_counter()
        result: dict[str, Any] = {"origin": self.origin, "direction": self.direction,
                                  "seed": self.seed, "atol": self.atol, "rtol": self.rtol,
                                  "input": self.params.get("input"), "equivalent": False,
                                  "reason": None, "layers": [], "output": None,
                                  "first_divergence": None}
        records = self.plan()
        result["mapping"] = records
        # Transfer what can be, even when some pair cannot: every problem gets reported.
        result["randomised"] = self.randomise(records)
        self.transfer(records)
        unmapped = [r for r in records if r["status"] != "mapped"]
        result["renamed"] = dict(self.renamed)
        for r in records:
            r.pop("_objects", None)
        if unmapped:
            shown = ", ".join(f"{r['keras']} / {r['torch']} ({r['reason']})" for r in unmapped[:3])
            more = f" and {len(unmapped) - 3} more" if len(unmapped) > 3 else ""
            result["reason"] = (f"the weights of {len(unmapped)} layer pair"
                                f"{'s' if len(unmapped) != 1 else ''} could not be transferred, "
                                f"so the outputs were not compared: {shown}{more}")
            result["seconds"] = round(time.perf_counter() - start, 3)
            return result
        if self.params.get("input_problem") or not self.params.get("input"):
            result["reason"] = (self.params.get("input_problem")
                                or "the input shape is unknown (give --input-shape)")
            result["seconds"] = round(time.perf_counter() - start, 3)
            return result
        items = self.compare_items()
        try:
            keras_records, torch_records, keras_out, torch_out = self.run_models(items)
        except ForwardError as exc:
            result["reason"] = str(exc)
            result["seconds"] = round(time.perf_counter() - start, 3)
            return result
        result["layers"] = self.compare(items, keras_records, torch_records)
        result["output"] = self.final(keras_out, torch_out)
        result["equivalent"] = bool(result["output"].get("within_tolerance"))
        first = next((c for c in result["layers"] if c.get("status") == "diverges"), None)
        if first is None and not result["equivalent"]:
            first = {"keras": "(output)", "torch": "(output)", "row": None,
                     **{k: v for k, v in result["output"].items()
                        if k in ("max_abs_error", "max_rel_error", "reason")}}
        result["first_divergence"] = first
        if self.notes:
            result["notes"] = self.notes
        result["seconds"] = round(time.perf_counter() - start, 3)
        return result

    def compare_items(self) -> list[dict[str, Any]]:
        """The compared rows with their live layers. A row whose Keras layer has a fused
        activation records the torch side at the port's activation module ("capture")."""
        items = []
        for item in self.params.get("compare") or []:
            item = dict(item)
            capture = item["torch"].get("capture")
            if capture:
                item["torch"] = {**item["torch"], "occurrence": capture["occurrence"],
                                 "layout": capture.get("layout")}
            try:
                item["_keras"] = self.keras_layer(item["keras"]["name"],
                                                  item["keras"].get("type") or "")
                item["_torch"] = self.torch_module((capture or item["torch"])["name"])
            except LookupError as exc:
                item["_keras"] = item.get("_keras")
                item["_torch"] = None
                item["_skip"] = str(exc)
            items.append(item)
        return items


def _first(value: Any) -> Any:
    """The first tensor of a (nested) output."""
    while isinstance(value, (tuple, list)) and value:
        value = value[0]
    if isinstance(value, dict) and value:
        return _first(next(iter(value.values())))
    return value


def _num(value: float) -> float | None:
    """A JSON number: None for NaN or infinity (a non-finite output)."""
    import math

    return value if math.isfinite(value) else None
