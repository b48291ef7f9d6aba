"""The torch module tree as the interpreter builds it: naming modules after the
attribute or index that holds them, containers, isinstance() on model values."""

from __future__ import annotations

from typing import Any

from .. import ir
from .frameworks import resolve
from .values import Class, Instance, Layer, Sequential, Tensor


def attach(value: Any, parent: Any, name: str) -> None:
    """Name a torch module after the attribute or index that first holds it."""
    if isinstance(value, (Layer, Sequential, Instance)) and value.parent is None and value is not parent:
        if isinstance(value, Layer) and value.framework != ir.TORCH:
            return
        value.local_name = name
        value.parent = parent


def framework_kind(cls: Class) -> str | None:
    """The kind of framework class `cls` derives from (a module, a layer), if any."""
    for base in cls.framework_bases():
        return resolve(base.path).kind
    return None


def instance_of(value: Any, cls: Any) -> bool:
    """isinstance() for values of the analysed model against a class or framework class."""
    if isinstance(cls, Class):
        return isinstance(value, Instance) and cls in value.cls.mro()
    resolved = resolve(cls.path)
    if resolved.name == "Tensor" or cls.path.endswith(".Tensor"):
        return isinstance(value, Tensor)
    if isinstance(value, Layer):
        return resolved.kind == "layer" and resolved.name == value.type_name or resolved.kind == "base"
    if isinstance(value, Sequential):
        return resolved.kind in ("sequential", "module_list", "base")
    if isinstance(value, Instance):
        return any(resolve(b.path) == resolved for b in value.cls.framework_bases()) or resolved.kind == "base"
    return False


def module_tree(root: Any) -> list[Any]:
    """`module.modules()`: the module and every module under it, depth first."""
    found: list[Any] = []
    seen: set[int] = set()  # by identity: a list scan made 20,000 modules take minutes
    stack = [root]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        children: list[Any] = []
        if isinstance(current, Instance):
            children = [v for v in current.attrs.values() if isinstance(v, (Layer, Sequential, Instance))]
            if current.container is not None:
                children += current.container.items
        elif isinstance(current, Sequential):
            children = list(current.items)
        stack.extend(reversed(children))
    return found


def is_keras_class(cls: Class) -> bool:
    return any(resolve(base.path).framework == ir.KERAS for base in cls.framework_bases())


def container_kind(cls: Class) -> str | None:
    """"sequential", "ModuleList" or "ModuleDict" for subclasses of those torch classes."""
    for base in cls.framework_bases():
        resolved = resolve(base.path)
        if resolved.kind == "sequential" and resolved.framework == ir.TORCH:
            return "sequential"
        if resolved.kind == "module_list":
            return resolved.name
    return None
