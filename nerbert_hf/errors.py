"""The base of every error caused by the user's input, which the CLI prints without a traceback."""


class NerbertError(Exception):
    """Bad input or an unreachable source; the message says which file, line or field."""


class FileError(NerbertError, ValueError):
    """A file that cannot be used; ``path`` and ``line`` (1-based, or None) say where."""

    def __init__(self, path, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
