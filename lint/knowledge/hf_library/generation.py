# A model of transformers.generation (4.46): GenerationMixin adds decoding methods only.
# Read by portlint's interpreter, never imported.


class GenerationMixin:
    pass
