"""Which third-party modules an analysed model can count on (facts, as data).

Model code guards optional accelerators with `try: import X ... except ImportError: ...`
(transformers' T5: `from apex.normalization import FusedRMSNorm`, else its own
`T5LayerNorm`). Statically, a module is taken as installed when it is part of the
analysed project, the standard library, a framework portlint models, or a dependency
every such framework installs; any other module under an `except ImportError` is taken
as absent, so the handler runs, as it does on a machine without the accelerator.
"""

from __future__ import annotations

# Installed with torch or TensorFlow (their own requirements), or by both.
FRAMEWORK_DEPENDENCIES = frozenset({
    "numpy", "typing_extensions", "packaging", "filelock", "sympy", "networkx", "jinja2",
    "fsspec", "google", "absl", "h5py", "ml_dtypes", "opt_einsum", "termcolor", "wrapt",
    "six", "setuptools", "requests", "grpc", "optree", "rich", "namex",
})
# Exceptions a handler may name that an import of a missing module raises.
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
