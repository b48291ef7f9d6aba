"""The methods of framework module objects (torch nn.Module and its containers, Keras
Layer) the interpreter models, by the built-in each one becomes (see
frontend/framework_methods.py for what they do)."""

from __future__ import annotations

# Looked up on a model-class instance before its base layer and container items.
MODULE_METHODS = {
    "add_module": "module.add_module",
    "register_module": "module.add_module",
    "register_buffer": "module.register_buffer",
    "register_parameter": "module.register_parameter",
    "add_weight": "module.add_weight",  # Keras Layer
}
# Looked up last, when the instance sets no such attribute.
TREE_METHODS = {name: f"module.{name}" for name in
                ("modules", "children", "named_modules", "named_children", "parameters")}
# Methods of nn.Sequential / ModuleList / ModuleDict values (and their subclasses).
CONTAINER_METHODS = frozenset({"add", "append", "extend", "insert", "add_module",
                               "register_module", "items", "keys", "values", "children",
                               "update"})
# `self.training`: models are analysed as in inference (eval) mode.
TRAINING = False
# The keyword a framework layer's call takes its data by: Keras `Layer.call(inputs)`,
# torch `Module.forward(input)` (`self.dense(inputs=x)` in Hugging Face's TF code).
DATA_KEYWORDS = ("inputs", "input")
# A Keras layer's own state before its `build` sets it (`self.built = True`).
KERAS_LAYER_STATE = {"built": False, "name": None}
# torch.autograd.Function subclasses: `XSoftmax.apply(x, mask, dim)` runs the static
# `forward(ctx, x, mask, dim)` with a context object that keeps what forward sets on it
# and whose methods for backward do nothing here (Hugging Face's DeBERTa).
AUTOGRAD_FUNCTION = "torch.autograd.Function"
AUTOGRAD_APPLY = "apply"
AUTOGRAD_CONTEXT_METHODS = frozenset({"save_for_backward", "mark_non_differentiable",
                                      "mark_dirty", "set_materialize_grads"})
