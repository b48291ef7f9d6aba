# A model of the package transformers.utils (4.46): what model files use of it while a
# model is built. Read by portlint's interpreter, never imported. The documentation
# decorators are never applied by the interpreter; the availability checks answer as in
# an environment with torch and TensorFlow and without the optional CUDA kernels, whose
# code paths a model built on a CPU does not take. A name this model lacks is read
# from the real package (through the module its `__init__` takes it from).
from collections import OrderedDict

from . import logging


class ModelOutput(OrderedDict):
    # The base of the output dataclasses; the interpreter models what they do.
    pass


def is_torch_available():
    return True


def is_tf_available():
    return True


def is_flash_attn_2_available():
    return False


def is_flash_attn_greater_or_equal_2_10():
    return False


def is_flash_attn_greater_or_equal(library_version):
    return False


def is_torchdynamo_compiling():
    return False


def is_torch_fx_proxy(x):
    return False


def requires_backends(obj, backends):
    # Raises only where a backend is missing; the analysis assumes none is.
    return None


def torch_int(x):
    return int(x)


def torch_float(x):
    # transformers 4.46 returns int(x) here outside tracing, as modelled.
    return int(x)
