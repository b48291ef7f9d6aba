# A model of transformers.generation (4.46): GenerationMixin and TFGenerationMixin add
# decoding methods only; GenerationConfig holds decoding settings. Read by portlint's
# interpreter, never imported. A name this model lacks is read from the real package.


class GenerationMixin:
    pass


class TFGenerationMixin:
    pass


class GenerationConfig:
    def __init__(self, **kwargs):
        self.max_length = kwargs.pop("max_length", 20)

    @classmethod
    def from_model_config(cls, model_config):
        return cls()
