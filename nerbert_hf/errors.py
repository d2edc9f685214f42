"""The base of every error caused by the user's input, which the CLI prints without a traceback."""


class NerbertError(Exception):
    """Bad input or an unreachable source; the message says which file, line or field."""
