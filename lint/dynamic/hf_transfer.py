"""The weight half of `verify --numeric` for a Hugging Face pair: every variable of the TF
model (`TF<X>Model`, built in its name scope) paired with its torch twin's tensor by name
and module structure (`portlint.knowledge.hf_weights`), never by position; the original's
biases, norm scales and statistics randomised; each tensor copied with its layout
converted. Runs in the verify worker (numpy and the frameworks are imported there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..knowledge import hf_weights as hf
from .protocol import KERAS

HF_KERAS_BASE = "TFPreTrainedModel"
HF_TORCH_BASE = "PreTrainedModel"


def _has_base(obj: Any, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(obj).__mro__)


def is_hf_pair(keras_model: Any, torch_model: Any) -> bool:
    """Both models are transformers models (their classes derive from HF's bases)."""
    return _has_base(keras_model, HF_KERAS_BASE) and _has_base(torch_model, HF_TORCH_BASE)


@dataclass
class Transfer:
    """One TF variable and the torch tensor it maps to."""

    keras: str  # the TF variable's name
    torch: str  # the torch tensor's state_dict name
    layout: hf.Layout
    variable: Any
    tensor: Any

    def to_json(self) -> dict[str, Any]:
        return {"keras": self.keras, "torch": self.torch, "status": "mapped",
                "layout": self.layout.kind, "by": self.layout.by, "reason": None}


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def _owners(torch_model: Any) -> dict[str, str]:
    """torch tensor name -> the class name of the module that holds it."""
    owners = {}
    for path, module in torch_model.named_modules():
        prefix = f"{path}." if path else ""
        for name, _ in [*module.named_parameters(recurse=False),
                        *module.named_buffers(recurse=False)]:
            owners[prefix + name] = type(module).__name__
    return owners


def plan(keras_model: Any, torch_model: Any) -> tuple[list[Transfer], list[dict[str, Any]],
                                                     list[str]]:
    """The transfers, the problems (a TF variable without torch tensor, a shape no layout
    fits, a torch parameter or running statistic nothing gives a value) and notes."""
    tensors = torch_model.state_dict(keep_vars=True)
    owners = _owners(torch_model)
    base = getattr(torch_model, "base_model_prefix", "") or ""
    transfers: list[Transfer] = []
    problems: list[dict[str, Any]] = []
    notes: list[str] = []
    given: set[int] = set()
    seen: set[int] = set()
    for variable in keras_model.weights:
        if id(variable) in seen:
            continue
        seen.add(id(variable))
        names = hf.candidates(variable.name, base)
        found = next((n for n in names if n in tensors), None)
        if found is None:
            problems.append({"keras": variable.name, "torch": None, "status": "unmapped",
                             "reason": "the torch model has no tensor named "
                                       + " or ".join(f"`{n}`" for n in names)})
            continue
        tensor = tensors[found]
        leaf = found.rsplit(".", 1)[-1]
        layout = hf.layout(owners.get(found, ""), leaf, _shape(variable), _shape(tensor))
        if layout is None:
            problems.append({"keras": variable.name, "torch": found, "status": "unmapped",
                             "reason": f"shapes {_shape(variable)} and {_shape(tensor)} fit no "
                                       f"layout convention ({owners.get(found, '?')})"})
            continue
        if id(tensor) in given:
            problems.append({"keras": variable.name, "torch": found, "status": "unmapped",
                             "reason": "a second TF variable maps onto this torch tensor"})
            continue
        given.add(id(tensor))
        transfers.append(Transfer(variable.name, found, layout, variable, tensor))
    computed = []
    for name, tensor in tensors.items():
        if id(tensor) in given or hf.is_torch_only(name):
            continue
        given.add(id(tensor))
        is_stat = name.rsplit(".", 1)[-1] in ("running_mean", "running_var")
        if getattr(tensor, "requires_grad", False) or is_stat or _is_parameter(tensor):
            problems.append({"keras": None, "torch": name, "status": "unmapped",
                             "reason": "no TF variable gives this torch tensor a value"})
        else:
            computed.append(name)
    if computed:
        notes.append(f"{len(computed)} torch buffer(s) that no TF variable matches are left as "
                     f"the model computed them (e.g. `{computed[0]}`)")
    return transfers, problems, notes


def _is_parameter(tensor: Any) -> bool:
    return type(tensor).__name__ == "Parameter"


# Layout conversions (numpy arrays), Keras -> torch and back: kind -> (to_torch, to_keras),
# each f(array, target_shape).
def _conv_to_torch(a: Any, shape: tuple) -> Any:
    rank = a.ndim
    return a.transpose(rank - 1, rank - 2, *range(rank - 2))


def _conv_to_keras(a: Any, shape: tuple) -> Any:
    return a.transpose(*range(2, a.ndim), 1, 0)


def _depthwise_to_torch(a: Any, shape: tuple) -> Any:
    *k, c, m = a.shape
    n = len(k)
    return a.reshape(*k, c * m).transpose(n, *range(n)).reshape(c * m, 1, *k)


def _depthwise_to_keras(a: Any, shape: tuple) -> Any:
    *k, c, m = shape
    n = len(k)
    return a.reshape(c * m, *k).transpose(*range(1, n + 1), 0).reshape(*k, c, m)


LAYOUTS = {
    hf.SAME: (lambda a, s: a, lambda a, s: a),
    hf.TRANSPOSE: (lambda a, s: a.T, lambda a, s: a.T),
    hf.CONV: (_conv_to_torch, _conv_to_keras),
    hf.DEPTHWISE: (_depthwise_to_torch, _depthwise_to_keras),
    hf.RESHAPE: (lambda a, s: a.reshape(s), lambda a, s: a.reshape(s)),
}


def randomise(transfers: list[Transfer], origin: str, rng: Any) -> int:
    """Random values for the original's biases, norm scales/shifts and running statistics
    (zero biases and unit scales would hide a difference); how many tensors got them."""
    import numpy as np

    count = 0
    for t in transfers:
        leaf = hf.split_name(t.keras)[-1] if origin == KERAS else t.torch.rsplit(".", 1)[-1]
        value = t.variable if origin == KERAS else t.tensor
        shape = _shape(value)
        kind = hf.randomised_kind(leaf, shape)
        if kind is None:
            continue
        if kind == "variance":
            new = rng.uniform(0.1, 1.0, shape)
        elif kind == "scale":
            new = rng.uniform(0.5, 1.5, shape)
        else:
            new = rng.uniform(-0.5, 0.5, shape)
        new = new.astype(np.float32)
        if origin == KERAS:
            t.variable.assign(new.astype(t.variable.dtype.as_numpy_dtype))
        else:
            _put(t.tensor, new)
        count += 1
    return count


def _put(tensor: Any, array: Any) -> None:
    import torch

    with torch.no_grad():
        tensor.copy_(torch.from_numpy(array).to(tensor.dtype))


def apply(transfers: list[Transfer], origin: str) -> None:
    """Copy every tensor from the original to the port, layouts converted."""
    import numpy as np

    for t in transfers:
        to_torch, to_keras = LAYOUTS[t.layout.kind]
        if origin == KERAS:
            array = np.ascontiguousarray(to_torch(t.variable.numpy(), _shape(t.tensor)))
            _put(t.tensor, array)
        else:
            array = t.tensor.detach().cpu().numpy()
            t.variable.assign(np.ascontiguousarray(to_keras(array, _shape(t.variable)))
                              .astype(t.variable.dtype.as_numpy_dtype))
