# A model of transformers.onnx (4.46): the export configurations each configuration
# module subclasses. They describe ONNX export, not a model. Read by portlint's
# interpreter, never imported. A name this model lacks is read from the real package.


class PatchingSpec:
    def __init__(self, o, name, custom_op, orig_op=None, op_wrapper=None):
        self.o = o
        self.name = name


class OnnxConfig:
    default_fixed_batch = 2
    default_fixed_sequence = 8
    default_fixed_num_choices = 4

    def __init__(self, config, task="default", patching_specs=None):
        self._config = config
        self.task = task


class OnnxConfigWithPast(OnnxConfig):
    def __init__(self, config, task="default", patching_specs=None, use_past=False):
        super().__init__(config, task=task, patching_specs=patching_specs)
        self.use_past = use_past


class OnnxSeq2SeqConfigWithPast(OnnxConfigWithPast):
    pass
