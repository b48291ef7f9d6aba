"""Hugging Face transformers' library modules, as the front end knows them.

A transformers model file imports its base classes and helpers from the library
(`from ...modeling_utils import PreTrainedModel`, `from ...activations import ACT2FN`).
The real modules are large (modeling_utils.py is 5,000 lines) and mostly about loading,
saving and generation; what a model's structure depends on is small. So these imports are
answered from the models in this folder instead: short Python sources of our own, written
in the subset the interpreter follows, that state what each name does to a model built
statically (a base that is an nn.Module, `post_init()` that changes nothing, a helper that
passes masks through, `ACT2FN[name]` that builds the named activation). They are read and
interpreted, never imported (they would import torch).

`MODULES` maps the absolute module name to the file; a module not listed is read from
the analysed package as any other. A model need not be complete: a name it does not
define is read from the library's own module when the analysed package has it (the
loader keeps that file as the module's `original`), and the model's relative imports
resolve from that file's place, as the real module's would.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent

MODULES: dict[str, str] = {
    "transformers.configuration_utils": "configuration_utils.py",
    "transformers.modeling_utils": "modeling_utils.py",
    "transformers.pytorch_utils": "pytorch_utils.py",
    "transformers.activations": "activations.py",
    "transformers.modeling_attn_mask_utils": "modeling_attn_mask_utils.py",
    "transformers.generation": "generation.py",
    "transformers.modeling_tf_utils": "modeling_tf_utils.py",
    "transformers.tf_utils": "tf_utils.py",
    "transformers.utils": "utils.py",
    "transformers.utils.logging": "logging.py",
    "transformers.onnx": "onnx.py",
}


def model_of(module: str) -> str | None:
    """The path of the model of library module `module` (absolute dotted name), if any."""
    name = MODULES.get(module)
    return str(FOLDER / name) if name is not None else None
