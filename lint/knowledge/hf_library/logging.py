# A model of transformers.utils.logging (4.46): loggers that do nothing a model's
# structure can see. Read by portlint's interpreter, never imported.


class _Logger:
    def debug(self, *args, **kwargs):
        return None

    def info(self, *args, **kwargs):
        return None

    def warning(self, *args, **kwargs):
        return None

    def warn(self, *args, **kwargs):
        return None

    def error(self, *args, **kwargs):
        return None

    def warning_once(self, *args, **kwargs):
        return None

    def info_once(self, *args, **kwargs):
        return None

    def warning_advice(self, *args, **kwargs):
        return None

    def setLevel(self, level):
        return None


def get_logger(name=None):
    return _Logger()


def get_verbosity():
    return 30


def set_verbosity(verbosity):
    return None
