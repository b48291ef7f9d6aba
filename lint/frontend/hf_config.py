"""Hugging Face configurations: the `config` a model is built from, when none is given.

A transformers model class takes one argument, `config`. The TF classes annotate it
(`config: BertConfig`); the torch classes do not (`def __init__(self, config,
add_pooling_layer=True)`) but name the class on the model or its PreTrainedModel base
(`config_class = BertConfig`). Either way the configuration is built from its class's
defaults (its `__init__` is interpreted; `PretrainedConfig`'s own comes from
knowledge/hf_library), with the user's overrides for that side (`--torch-config`,
`--keras-config`: a config.json or a JSON of constructor arguments) passed as keyword
arguments, as `BertConfig(**config_dict)` does in transformers.

`PretrainedConfig.attribute_map` renames attributes on reads and writes (GPT-2:
`hidden_size` is stored as `n_embd`): `attribute_name` applies it.
"""

from __future__ import annotations

from typing import Any

from .. import ir
from .modules import framework_kind, is_keras_class
from .values import Class, Function, Instance, Site

CONFIG_PARAMETER = "config"
CONFIG_BASE = "PretrainedConfig"  # transformers' base of every configuration class


def default_config(interp: Any, fn: Function, param: Any, args: list[Any],
                   site: Site) -> Any:
    """The configuration for a required parameter left out, or None when it is not one:
    `config: SomeConfig` (a plain class), or `config` of a model class's `__init__` whose
    class names `config_class`."""
    cls = config_class_for(interp, fn, param, args[0] if args else None)
    if cls is None:
        return None
    receiver = args[0] if args and isinstance(args[0], Instance) else None
    return build(interp, cls, site, _framework(receiver))


def config_class_for(interp: Any, fn: Function, param: Any, receiver: Any) -> Class | None:
    """The annotated class, else the model's `config_class`; an annotation of the base
    `PretrainedConfig` itself (DistilBERT's `config: PretrainedConfig`) names no
    configuration of its own: the model's `config_class` is the one built."""
    annotation = getattr(param.annotation, "annotation", None)
    annotated = None
    if annotation is not None:
        try:
            cls = interp.eval(annotation, fn.scope, fn.source)
        except Exception:  # an annotation the interpreter cannot read is not a config class
            cls = None
        if isinstance(cls, Class) and framework_kind(cls) is None:
            if cls.name != CONFIG_BASE:
                return cls
            annotated = cls
    if param.name.value != CONFIG_PARAMETER or fn.name != "__init__":
        return annotated
    owner = receiver.cls if isinstance(receiver, Instance) else receiver
    if not isinstance(owner, Class) or framework_kind(owner) is None:
        return annotated
    cls = owner.lookup("config_class")
    return cls if isinstance(cls, Class) and framework_kind(cls) is None else annotated


def build(interp: Any, cls: Class, site: Site, framework: str | None) -> Any:
    """An instance of configuration class `cls` from its defaults and the overrides given
    for `framework`'s side."""
    overrides = dict((interp.config_overrides or {}).get(framework) or {})
    params = _init_params(cls)
    if params is not None and not _takes_kwargs(cls):
        overrides = {k: v for k, v in overrides.items() if k in params}
    config = interp.instantiate(cls, [], overrides, site)
    if isinstance(config, Instance) and not _takes_kwargs(cls):
        for key, value in (interp.config_overrides or {}).get(framework, {}).items():
            if key not in config.attrs:  # a plain class: set as PretrainedConfig would
                config.attrs[attribute_name(config, key)] = value
    return config


# The input a model's call/forward takes first, by parameter name, and the config values
# that give its shape per sample: HF vision models take `pixel_values` as (C, H, W) (the
# TF ones too, transposing to NHWC inside).
INPUT_SHAPES = {"pixel_values": ("num_channels", "image_size")}


def sample_input_shape(model: Instance) -> tuple | None:
    """The per-sample input shape a model's config gives for its first input, or None."""
    method = model.cls.lookup("call") or model.cls.lookup("forward")
    config = model.attrs.get(CONFIG_PARAMETER)
    if not isinstance(method, Function) or type(method.node).__name__ == "Lambda" \
            or not isinstance(config, Instance):
        return None
    params = [p.name.value for p in [*method.node.params.posonly_params, *method.node.params.params]]
    keys = INPUT_SHAPES.get(params[1] if len(params) > 1 else "")
    if keys is None:
        return None
    channels, size = (config.attrs.get(attribute_name(config, key)) for key in keys)
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if not (isinstance(size, (list, tuple)) and len(size) == 2
            and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size)):
        size = (None, None)  # ResNet's config has no image size: the channels still count
    if not (isinstance(channels, int) and not isinstance(channels, bool) and channels > 0):
        return None
    return (channels, *size)


def is_hf_config(cls: Class) -> bool:
    return any(klass.name == CONFIG_BASE for klass in cls.mro())


def attribute_name(obj: Instance, name: str) -> str:
    """`name` through the instance's `attribute_map`, for a transformers configuration."""
    mapping = obj.cls.lookup("attribute_map")
    if isinstance(mapping, dict) and name in mapping and name != "attribute_map" \
            and is_hf_config(obj.cls):
        target = mapping[name]
        return target if isinstance(target, str) else name
    return name


def _framework(receiver: Any) -> str | None:
    if not isinstance(receiver, Instance):
        return None
    return ir.KERAS if is_keras_class(receiver.cls) else ir.TORCH


def _init_params(cls: Class) -> set[str] | None:
    init = cls.lookup("__init__")
    if not isinstance(init, Function) or type(init.node).__name__ == "Lambda":
        return None
    params = init.node.params
    return {p.name.value for p in [*params.posonly_params, *params.params,
                                   *params.kwonly_params]}


def _takes_kwargs(cls: Class) -> bool:
    init = cls.lookup("__init__")
    return isinstance(init, Function) and type(init.node).__name__ != "Lambda" \
        and init.node.params.star_kwarg is not None


def read_overrides(path: str, option: str) -> str:
    """The configuration values a `--torch-config`/`--keras-config` file gives, as
    canonical JSON text (options stay hashable): an HF `config.json` or a JSON object of
    constructor arguments. Raises InputError (exit 2) when it is not one."""
    import json

    from ..errors import InputError

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise InputError(f"{option} {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{option} {path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise InputError(f"{option} {path}: expected a JSON object of configuration values "
                         f"(an HF config.json, or constructor arguments)")
    return json.dumps(data, sort_keys=True)


def overrides_of(keras_json: str | None, torch_json: str | None) -> dict[str, dict[str, Any]]:
    """The per-framework overrides `extract` takes, from the options' JSON texts."""
    import json

    out: dict[str, dict[str, Any]] = {}
    for framework, text in ((ir.KERAS, keras_json), (ir.TORCH, torch_json)):
        if text:
            out[framework] = json.loads(text)
    return out
