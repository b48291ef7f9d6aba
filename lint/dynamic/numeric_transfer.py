"""The weight half of the `numeric` step: find each aligned layer in the built models,
plan its mapping (`portlint.dynamic.mapping`), give the original's biases, scales and
statistics random values, and run the transfer statements. Runs in the worker.
"""

from __future__ import annotations

from typing import Any

from ..knowledge.ops import NORMALIZATIONS
from . import mapping
from .protocol import KERAS, TORCH

# Origin tensors given random values before the transfer (by attribute name), and how.
_SHIFTS = ("bias", "beta", "moving_mean", "running_mean", "bias_ih", "bias_hh")
_SCALES = ("gamma", "scale")
_VARIANCES = ("moving_variance", "running_var")
_NORMS = NORMALIZATIONS


class WeightTransfer:
    """Mixed into `numeric.NumericRun`, whose __init__ sets what these methods read: params,
    the frameworks and models, origin, direction, rng, namespace (the mapping helpers),
    keras_index, claimed, resolved, renamed."""

    # ------------------------------------------------------------------ finding layers

    def _keras_layers(self) -> list[Any]:
        found, seen, queue = [], {id(self.keras_model)}, [self.keras_model]
        while queue:
            layer = queue.pop(0)
            for child in layer._flatten_layers(include_self=False, recursive=False):
                if id(child) not in seen:
                    seen.add(id(child))
                    found.append(child)
                    queue.append(child)
        return found

    def keras_layer(self, name: str, type_name: str) -> Any:
        """The built Keras layer of a static name: by name, else (automatic names shifted
        by other layers the file built) the first unclaimed layer of the same class."""
        if name in self.resolved:
            return self.resolved[name]
        layer = next((l for l in self.keras_index if l.name == name), None)
        if layer is None:
            wanted = type_name.split("(")[0]
            taken = {id(l) for l in self.resolved.values()}
            layer = next((l for l in self.keras_index if type(l).__name__ == wanted
                          and l.name not in self.claimed and id(l) not in taken), None)
            if layer is not None:
                self.renamed[name] = layer.name
        if layer is None:
            raise LookupError(f"the built Keras model has no layer `{name}`")
        self.resolved[name] = layer
        return layer

    def torch_module(self, path: str) -> Any:
        try:
            return self.torch_model.get_submodule(path)
        except AttributeError:
            raise LookupError(f"the built PyTorch model has no module `{path}`") from None

    def keras_found(self, layer: Any, paths: list[str]) -> dict[str, tuple | None]:
        found: dict[str, tuple | None] = {}
        for path in paths:
            value, ok = layer, True
            for part in path.split("."):
                if value is None or not hasattr(value, part):
                    ok = False
                    break
                try:
                    value = getattr(value, part)
                except Exception:  # noqa: BLE001 - a property that cannot be read here
                    ok = False
                    break
            if not ok or isinstance(value, (bool, int, float, str)):
                continue
            if value is None:
                found[path] = None
            elif hasattr(value, "assign") and hasattr(value, "shape"):
                found[path] = tuple(int(d) for d in value.shape)
        return found

    def torch_found(self, module: Any) -> dict[str, tuple | None]:
        found: dict[str, tuple | None] = {}
        for name in mapping.TORCH_TENSORS:
            if name not in dir(module):
                continue
            value = getattr(module, name, None)
            if value is None:
                found[name] = None
            elif isinstance(value, self.torch.Tensor):
                found[name] = tuple(value.shape)
        return found

    # ------------------------------------------------------------------ transfer

    def plan(self) -> list[dict[str, Any]]:
        """The mapping of every aligned weighted pair (statements both ways, problems)."""
        out = []
        for entry in self.params.get("layers") or []:
            record = {"row": entry.get("row"), "keras": entry["keras"]["name"],
                      "torch": entry["torch"]["name"], "op": entry.get("op"),
                      "status": "unmapped", "reason": entry.get("problem")}
            out.append(record)
            if entry.get("problem"):
                comment = (f"{entry['keras'].get('type') or '-'} `{entry['keras']['name']}` / "
                           f"{entry['torch'].get('type') or '-'} `{entry['torch']['name']}`")
                record.update(comment={d: comment for d in mapping.DIRECTIONS},
                              statements={d: [] for d in mapping.DIRECTIONS},
                              problems={d: [entry["problem"]] for d in mapping.DIRECTIONS})
                continue
            try:
                layer = self.keras_layer(entry["keras"]["name"], entry["keras"].get("type") or "")
                module = self.torch_module(entry["torch"]["name"])
            except LookupError as exc:
                record["reason"] = str(exc)
                record.update(comment={d: "" for d in mapping.DIRECTIONS},
                              statements={d: [] for d in mapping.DIRECTIONS},
                              problems={d: [str(exc)] for d in mapping.DIRECTIONS})
                continue
            record["keras"] = layer.name
            found = self.keras_found(layer, mapping.keras_attribute_paths(entry))
            layer_map = mapping.render(entry, layer.name, entry["torch"]["name"], found,
                                       self.torch_found(module))
            record.update(layer_map.to_json())
            record["_objects"] = (layer, module, found)
            problems = layer_map.problems[self.direction]
            if problems:
                record["reason"] = "; ".join(problems)
            else:
                record["status"] = "mapped"
                record["reason"] = None
        return out

    def randomise(self, records: list[dict[str, Any]]) -> int:
        """Random biases, norm scales/shifts and running statistics in the original."""
        np = self.np
        count = 0
        for record in records:
            if record["status"] != "mapped":
                continue
            layer, module, found = record["_objects"]
            if self.origin == KERAS:
                targets = [(path, self._keras_value(layer, path)) for path, shape in found.items()
                           if shape is not None]
            else:
                targets = [(name, getattr(module, name)) for name, shape in
                           self.torch_found(module).items() if shape is not None]
            for path, tensor in targets:
                leaf = path.rsplit(".", 1)[-1]
                base = leaf.removesuffix("_reverse").removesuffix("_l0")
                shape = tuple(int(d) for d in tensor.shape)
                if base in _SHIFTS:
                    value = self.rng.uniform(-0.5, 0.5, shape)
                elif base in _VARIANCES:
                    value = self.rng.uniform(0.1, 1.0, shape)
                elif base in _SCALES or (base == "weight" and record["op"] in _NORMS
                                         and self.origin == TORCH):
                    value = self.rng.uniform(0.5, 1.5, shape)
                else:
                    continue
                self.namespace["put"](tensor, value.astype(np.float32))
                count += 1
        return count

    def _keras_value(self, layer: Any, path: str) -> Any:
        value = layer
        for part in path.split("."):
            value = getattr(value, part)
        return value

    def transfer(self, records: list[dict[str, Any]]) -> None:
        ns = self.namespace
        built = {r["keras"]: r["_objects"][0] for r in records if "_objects" in r}
        ns["K"] = lambda name: built[name]
        ns["T"] = self.torch_model.get_submodule
        for record in records:
            if record["status"] != "mapped":
                continue
            for statement in record["statements"][self.direction]:
                try:
                    exec(statement, ns)  # noqa: S102 - statements from portlint.dynamic.mapping
                except Exception as exc:  # noqa: BLE001 - reported per layer
                    record["status"] = "unmapped"
                    record["reason"] = f"`{statement}` failed: {type(exc).__name__}: {exc}"
                    break
