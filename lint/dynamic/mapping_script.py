"""The standalone script of `verify --numeric --emit-mapping`: the mapping statements the
worker ran (`portlint.dynamic.mapping`), the helpers they call, builders for both models and
a check that runs one random batch through both. Pure standard library.
"""

from __future__ import annotations

from typing import Any

from .mapping import KERAS_TO_TORCH, TORCH_TO_KERAS
from .mapping_helpers import HELPERS


def _py(value: Any) -> str:
    return repr(value)


def render_script(numeric: dict[str, Any], keras: dict[str, Any], torch: dict[str, Any],
                  origin: str, version: str = "") -> str:
    """The standalone script of `--emit-mapping`.

    `numeric`: the worker's numeric result (its "mapping" list has one entry per pair:
    statements and problems by direction); `keras`/`torch`: {"path": absolute file,
    "shown": as the user wrote it, "name": NAME, "call": ARGS or None, "input_shape": one
    sample or None}; `origin`: the framework the weights were copied from."""
    lines: list[str] = []
    by = f" (portlint {version})" if version else ""
    source, target = ("Keras", "PyTorch") if origin == "keras" else ("PyTorch", "Keras")

    def ref(side: dict[str, Any]) -> str:
        call = f"({side['call']})" if side.get("call") is not None else ""
        return f"{side['shown']}::{side['name']}{call}"

    lines += [
        f'"""Weight mapping between the Keras model {ref(keras)} and its PyTorch',
        f"counterpart {ref(torch)}.",
        "",
        f"Written by `portlint verify --numeric --emit-mapping`{by}: these are the",
        f"statements `--numeric` ran to copy the {source} weights into the {target} model,",
        "one block per layer. Use them from your code:",
        "",
        "    from this_file import keras_to_torch, torch_to_keras",
        "    keras_to_torch(keras_model, torch_model)   # Keras -> torch, in place",
        "    torch_to_keras(torch_model, keras_model)   # torch -> Keras, in place",
        "",
        "or run it: it builds both models from their files, copies the weights and prints",
        "the largest difference between their outputs on a random input.",
        "",
        "Keras layers are found by the names the verify worker's build gave them; building",
        "other Keras models first in the same session shifts automatic names (conv2d_1...):",
        "call keras.backend.clear_session() before building, or rename here.",
        '"""',
        "",
        "import importlib.util",
        "import sys",
        "from pathlib import Path",
        "",
        "import keras",
        "import numpy as np",
        "import torch",
        "",
        f"KERAS_FILE = {_py(keras['path'])}",
        f"TORCH_FILE = {_py(torch['path'])}",
        "",
    ]
    entries = numeric.get("mapping") or []
    for direction, signature, doc in (
            (KERAS_TO_TORCH, "keras_to_torch(keras_model, torch_model)",
             "Copy the Keras model's weights into the PyTorch model (in place)."),
            (TORCH_TO_KERAS, "torch_to_keras(torch_model, keras_model)",
             "Copy the PyTorch model's weights into the Keras model (in place).")):
        lines += ["", f"def {signature}:", f'    """{doc}"""',
                  "    K = keras_layers(keras_model)", "    T = torch_model.get_submodule"]
        for entry in entries:
            lines.append(f"    # {entry['comment'][direction]}")
            for problem in entry["problems"][direction]:
                lines.append(f"    # NOT MAPPED: {problem}")
            for statement in entry["statements"][direction] if not entry["problems"][direction] else []:
                lines.append(f"    {statement}")
        if not entries:
            lines.append("    pass")
        lines.append("")
    lines += ["", "# --- helpers ---------------------------------------------------------------",
              "", HELPERS.strip("\n"), "", ""]
    lines += _script_main(numeric, keras, torch, origin)
    return "\n".join(lines).rstrip("\n") + "\n"


def _script_main(numeric: dict[str, Any], keras: dict[str, Any], torch: dict[str, Any],
                 origin: str) -> list[str]:
    inputs = numeric.get("input") or {}
    k_shape = inputs.get("keras")
    to_torch = inputs.get("to_torch")
    kind = inputs.get("dtype", "float")
    high = inputs.get("high")

    def builder(side: dict[str, Any], framework: str) -> list[str]:
        call = side.get("call")
        args = f"({call})" if call is not None else ""
        name = side["name"]
        out = [f"def build_{framework}():",
               f'    """`{name}{args}` from {side["shown"]}."""',
               f"    module = load({framework.upper()}_FILE)",
               f"    value = module.{name}" if name.isidentifier() else
               f"    value = getattr(module, {name!r})"]
        model_type = "keras.layers.Layer" if framework == "keras" else "torch.nn.Module"
        out.append(f"    model = value if isinstance(value, {model_type}) else value{args or '()'}")
        shape = side.get("input_shape")
        if framework == "keras":
            if shape:
                out += ["    if not model.built:  # Sequential and subclassed models need the input shape",
                        "        if isinstance(model, keras.Sequential):",
                        f"            model.build({(None, *shape)!r})",
                        "        else:",
                        f"            model(keras.Input(shape={tuple(shape)!r}))"]
        else:
            out.append("    model.eval()")
        out.append("    return model")
        return out

    out = [
        "def load(path):",
        '    """Import a model file by path, its folder first on sys.path (sibling imports work)."""',
        "    folder = str(Path(path).resolve().parent)",
        "    if folder not in sys.path:",
        "        sys.path.insert(0, folder)",
        "    spec = importlib.util.spec_from_file_location(f\"portlint_mapped_{abs(hash(path))}\", path)",
        "    module = importlib.util.module_from_spec(spec)",
        "    spec.loader.exec_module(module)",
        "    return module",
        "",
        "",
        *builder(keras, "keras"),
        "",
        "",
        *builder(torch, "torch"),
        "",
        "",
        "def check(seed=0):",
        '    """Build both models, copy the weights as `verify --numeric` did, run a random',
        '    batch of 2 through both and return the largest absolute difference of the outputs."""',
        "    keras_model, torch_model = build_keras(), build_torch()",
    ]
    if origin == "keras":
        out.append("    keras_to_torch(keras_model, torch_model)")
    else:
        out.append("    torch_to_keras(torch_model, keras_model)")
    if not k_shape:
        out += ["    raise SystemExit('the input shape is unknown: see `portlint verify --input-shape`')"]
        out += ["", "", "if __name__ == \"__main__\":", "    check()"]
        return out
    if kind == "int":
        out.append(f"    x = np.random.default_rng(seed).integers(0, {high}, {(2, *k_shape)!r})")
        torch_x = "torch.from_numpy(x_torch).long()"
    else:
        out.append(f"    x = np.random.default_rng(seed).standard_normal({(2, *k_shape)!r})"
                   f".astype(np.float32)")
        torch_x = "torch.from_numpy(x_torch)"
    if to_torch and list(to_torch) != list(range(len(to_torch))):
        axes = (0, *[a + 1 for a in to_torch])
        out.append(f"    x_torch = np.ascontiguousarray(x.transpose{axes!r})  # the port's input layout")
    else:
        out.append("    x_torch = x")
    out += [
        "    with torch.no_grad():",
        f"        y_torch = torch_model({torch_x})",
        "    y_keras = keras_model(x, training=False)",
        "    y_keras = arr(y_keras[0] if isinstance(y_keras, (list, tuple)) else y_keras)",
        "    y_torch = y_torch[0] if isinstance(y_torch, (list, tuple)) else y_torch",
        "    y_torch = arr(y_torch)",
        "    if y_torch.shape != y_keras.shape and y_torch.ndim >= 3:",
        "        y_torch = np.moveaxis(y_torch, 1, -1)  # channels first -> channels last",
        "    return float(np.max(np.abs(y_keras - y_torch)))",
        "",
        "",
        'if __name__ == "__main__":',
        "    print(f\"largest absolute difference of the outputs: {check():.3g}\")",
    ]
    return out
