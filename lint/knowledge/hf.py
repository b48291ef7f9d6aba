"""Hugging Face transformers conventions the front end models (facts, as data).

`ModelOutput` (transformers/utils/generic.py) is the base of the output dataclasses every
HF model returns (`BaseModelOutputWithPooling`, `TFBaseModelOutput`, ...): an ordered
mapping of its fields that skips the fields left None, indexable like a tuple.
"""

from __future__ import annotations

# The base class, by name: a @dataclass deriving from it (in modeling_outputs.py,
# modeling_tf_outputs.py or a modeling file) is an output record, not a module.
MODEL_OUTPUT_BASE = "ModelOutput"
# Modules whose classes are all ModelOutput dataclasses: recognised by import path when
# transformers itself is not analysed (`from transformers.modeling_outputs import ...`).
MODEL_OUTPUT_MODULES = ("transformers.modeling_outputs", "transformers.modeling_tf_outputs",
                        "transformers.modeling_flax_outputs", "transformers.utils.generic",
                        "transformers.utils")
# Methods of a ModelOutput value the interpreter models.
MODEL_OUTPUT_METHODS = frozenset({"to_tuple", "keys", "values", "items", "get"})
