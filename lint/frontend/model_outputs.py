"""Hugging Face `ModelOutput` records: which classes are one (the rule, in one place),
building one from a call, and reading it by index, slice, key or attribute.

A model that returns one yields its tensors (fields not None, in order: the first,
`last_hidden_state` or `logits`, is the model's output, the others extra outputs)."""

from __future__ import annotations

from typing import Any

from ..knowledge import hf
from .values import Class, ExternalRef, ModelOutput, Site, Unknown


def is_model_output_class(cls: Class) -> bool:
    """A @dataclass deriving from HF's `ModelOutput` (followed through the imports)."""
    return bool(_fields_of(cls)) and any(base.name == hf.MODEL_OUTPUT_BASE for base in cls.mro())


def is_model_output_ref(ref: ExternalRef) -> bool:
    """A name of transformers' output modules when transformers is not analysed."""
    module, _, name = ref.path.rpartition(".")
    return module in hf.MODEL_OUTPUT_MODULES and name != hf.MODEL_OUTPUT_BASE and \
        name[:1].isupper()


def _fields_of(cls: Class) -> list[str]:
    fields: list[str] = []
    for klass in reversed(cls.mro()):
        fields += [f for f in getattr(klass, "fields", []) if f not in fields]
    return fields


def from_class(cls: Class, args: list[Any], kwargs: dict[str, Any]) -> ModelOutput:
    """`Output(a, b, c=...)`: fields in declaration order, defaults from the class body
    (HF's are all None)."""
    names = _fields_of(cls)
    values = dict(zip(names, args))
    values.update({k: v for k, v in kwargs.items() if k in names})
    fields = {}
    for name in names:
        default = cls.lookup(name)
        fields[name] = values[name] if name in values else \
            default if isinstance(default, (int, float, str, bool, type(None))) else None
    return ModelOutput(cls.name, fields)


def from_ref(ref: ExternalRef, args: list[Any], kwargs: dict[str, Any]) -> ModelOutput:
    """Of a class not analysed: positional fields are unnamed, the keywords in order."""
    fields = {f"_{i}": value for i, value in enumerate(args)}
    fields.update(kwargs)
    return ModelOutput(ref.path.rpartition(".")[2], fields)


def index(value: ModelOutput, key: Any, site: Site) -> Any:
    """`outputs[0]`, `outputs[1:]` (over the fields not None), `outputs["logits"]`."""
    items = value.to_tuple()
    if isinstance(key, slice):
        return items[key]
    if isinstance(key, int) and not isinstance(key, bool):
        if -len(items) <= key < len(items):
            return items[key]
        return Unknown(f"`{value.type_name}` has no item {key}", site)
    if isinstance(key, str):
        if value.fields.get(key) is not None:
            return value.fields[key]
        return Unknown(f"`{value.type_name}` has no field `{key}` set", site)
    return Unknown(f"index of `{value.type_name}` not known statically", site)


def attribute(value: ModelOutput, name: str, site: Site) -> Any:
    """`outputs.last_hidden_state`: a declared field (None when not given)."""
    if name in value.fields:
        return value.fields[name]
    return Unknown(f"`{value.type_name}` has no field `{name}`", site)


def method(value: ModelOutput, name: str, args: list[Any]) -> Any:
    """to_tuple(), keys(), values(), items(), get(key[, default]): over the set fields."""
    present = {k: v for k, v in value.fields.items() if v is not None}
    if name == "to_tuple":
        return value.to_tuple()
    if name == "keys":
        return list(present)
    if name == "values":
        return list(present.values())
    if name == "items":
        return list(present.items())
    default = args[1] if len(args) > 1 else None
    return present.get(args[0], default) if args and isinstance(args[0], str) else default
