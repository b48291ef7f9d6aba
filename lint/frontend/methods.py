"""Models built by methods of plain classes: the style of GAN code and tutorials.

```
class DCGAN:
    def __init__(self):
        self.generator = self.build_generator()
    def build_generator(self):
        model = Sequential(); model.add(...); ...; return Model(noise, img)
```

The class is no framework class, so it is no model; each method that builds one is, named
`DCGAN.build_generator`. Such a model is realised as the code reaches it: the class is
built without arguments (its `__init__` runs, with whatever it sets up), then the method
is called on the instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .values import Class, Function, Instance, Site


@dataclass(frozen=True)
class MethodModel:
    """`cls.method`, a method that builds a model."""

    cls: Class
    method: str

    @property
    def name(self) -> str:
        return f"{self.cls.name}.{self.method}"

    @property
    def node(self) -> Any:
        return self.function.node

    @property
    def function(self) -> Function:
        return self.cls.lookup(self.method)


def method_models(cls: Class, framework_built_by: Callable[[Function], str | None]
                  ) -> list[tuple[MethodModel, str]]:
    """The methods of a plain class that build a model, each with its framework."""
    found = []
    for name, value in cls.attrs.items():
        if isinstance(value, Function) and not name.startswith("__"):
            framework = framework_built_by(value)
            if framework:
                found.append((MethodModel(cls, name), framework))
    return found


def find(scope: Any, dotted_name: str) -> MethodModel | None:
    """`Class.method` in a module scope, or None."""
    head, _, method = dotted_name.rpartition(".")
    cls = scope.vars.get(head)
    if isinstance(cls, Class) and isinstance(cls.lookup(method), Function):
        return MethodModel(cls, method)
    return None


def realise(interp: Any, model: MethodModel, site: Site) -> Any:
    """Build the class without arguments and call the method on it: what it returns, or
    the failed instance when the class cannot be built."""
    instance = interp.instantiate(model.cls, [], {}, site)
    if isinstance(instance, Instance) and instance.failed is not None:
        return instance
    method = interp.getattr(instance, model.method, site)
    return interp.call(method, [], {}, site)
