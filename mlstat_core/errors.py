"""Errors that are part of the interface: one clear sentence each, shown without a traceback;
and Python warnings shown the same way, one line each (for mlstat's commands and plugins')."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TypeVar


class TrainingDataWarning(UserWarning):
    """A warning about data as training data (a code seen once, too few records of a class):
    a loader raises it; a run records it, an evaluation of a saved model (``mlstat
    evaluate``), where the data only test the model, leaves it out."""


class MlstatError(Exception):
    """Base of every error a user can cause and fix; the CLI prints it and exits with code 2."""

    exit_code = 2


MlstatErrorT = TypeVar("MlstatErrorT", bound=MlstatError)


class ConfigError(MlstatError):
    """A pipeline file (or a --set override) is not valid."""

    def __init__(self, message: str, issues: list[ConfigIssue] | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])

    def __str__(self) -> str:
        head = super().__str__()
        if not self.issues:
            return head
        return head + "\n" + "\n".join(f"  - {issue}" for issue in self.issues)


class ConfigIssue:
    """One problem found in a pipeline file: where, what was found, what was expected."""

    def __init__(
        self,
        file: str,
        field: str,
        message: str,
        suggestion: str | None = None,
        *,
        in_file: bool = False,
    ) -> None:
        self.file = file
        self.field = field
        self.message = message
        self.suggestion = suggestion
        self.in_file = in_file
        """Found in what an input file holds (``Params.input_issues``: a column its header
        lacks), not in the settings alone."""

    def __str__(self) -> str:
        text = f"{self.file}: [{self.field}] {self.message}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text

    def as_dict(self) -> dict[str, str | None]:
        return {
            "file": self.file,
            "field": self.field,
            "message": self.message,
            "suggestion": self.suggestion,
        }


class PluginError(MlstatError):
    """A plugin could not be loaded, or breaks the contract."""


COMPONENT_DEFECT = 3
"""Exit code of a command stopped by a defect of a component's code (an unexpected error in
it, or a breach of the contract such as predictions of the wrong length): not the user's
mistake, so that a scheduler can alert its authors apart from a data or settings problem."""


def component_defect(error: MlstatErrorT) -> MlstatErrorT:
    """Mark ``error``, raised because a component broke the contract, as a defect of that
    component's code (exit code :data:`COMPONENT_DEFECT`) and return it, to be raised."""
    error.exit_code = COMPONENT_DEFECT
    return error


class DataError(MlstatError):
    """Input data is missing, empty, unreadable or does not match what the pipeline declares."""


class IntegrityError(MlstatError):
    """A file in a run folder does not match the SHA-256 recorded in its manifest."""


class ModelError(MlstatError):
    """A model cannot do what was asked (not fitted, unknown labels, missing optional extra)."""


class FigureError(MlstatError, KeyError):
    """A run result was asked for a figure it does not have as a number (``metric(name)``);
    also a KeyError, as the lookup in ``metrics`` it stands for is."""

    def __str__(self) -> str:  # KeyError's would quote the whole sentence
        return str(self.args[0]) if self.args else ""


_FILE_HINTS = {
    "EACCES": "no permission: choose a folder you can write to, or change its permissions",
    "EPERM": "no permission: choose a folder you can write to, or change its permissions",
    "EROFS": "the file system is read-only: choose a folder you can write to",
    "ENOSPC": "the disk is full: free some space or write elsewhere",
    "EDQUOT": "the disk quota is used up: free some space or write elsewhere",
    "ENOTDIR": "a part of the path is a file, not a folder: check the path",
    "EEXIST": "a file stands where a folder is expected: check the path",
    "EISDIR": "the path is a folder, not a file: give a file name",
    "ENAMETOOLONG": "the name is too long: use a shorter path",
    "ENOENT": "no such file or folder: check the path (relative paths of a pipeline file are "
              "taken from the file's folder)",
}


_STORAGE_FULL = ("ENOSPC", "EDQUOT")
"""Errors of a write that names no file but are the machine's, never a component's."""


def user_message(exc: BaseException) -> str | None:
    """The one-line message for an error the user can fix: an :class:`MlstatError`, a
    file-system error on a named path (no permission, read-only or full disk, a file where a
    folder is expected), or a full disk met by a write. ``None`` for anything else, which is a
    bug and keeps its traceback."""
    import errno

    if isinstance(exc, MlstatError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        code = errno.errorcode.get(exc.errno, "")
        hint = _windows_lock_hint(exc) or _FILE_HINTS.get(code)
        if hint and exc.filename is not None:
            return f"cannot use {exc.filename}: {hint}"
        if code in _STORAGE_FULL:  # raised by a write, which names no file
            return f"cannot write: {hint}"
    return None


_SHARING_VIOLATION, _ACCESS_DENIED = 32, 5
"""Windows' errors for a file another program holds open (Excel locks the files it shows)
and for a file one may not change (no permission, or open elsewhere too)."""


def _windows_lock_hint(exc: OSError) -> str | None:
    """On Windows, the hint for a file that another program may hold open (Python reads both
    errors as a PermissionError, "no permission"); None elsewhere."""
    code = getattr(exc, "winerror", None)
    if code == _SHARING_VIOLATION:
        return ("it is open in another program (Excel locks the files it shows): close it "
                "there and run again")
    if code == _ACCESS_DENIED:
        return ("no permission, or it is open in another program (Excel locks the files it "
                "shows): close it there, or choose a folder you can write to")
    return None


_WRITE_HINTS = {
    "ENOENT": "its folder does not exist or cannot hold files: check the path",
}
"""Hints for a failed write that differ from :data:`_FILE_HINTS` (which speaks of a pipeline
file's relative paths)."""


def write_failure(path: object, exc: OSError) -> DataError | None:
    """The error for a write of the file ``path`` that failed for a reason the user can fix
    (no permission, a read-only or full disk, no such folder), naming ``path`` itself, not
    the hidden temporary file beside it that was being written; None for any other reason
    (the original error then stands, with its traceback)."""
    import errno

    code = errno.errorcode.get(exc.errno, "") if exc.errno is not None else ""
    hint = _windows_lock_hint(exc) or _WRITE_HINTS.get(code) or _FILE_HINTS.get(code)
    return DataError(f"cannot write {path}: {hint}") if hint else None


def print_user_error(exc: BaseException) -> int:
    """For a plugin's own command: print a user's mistake as one line on stderr and return
    its exit code; anything else is raised again with its traceback."""
    import sys

    message = user_message(exc)
    if message is None:
        raise exc
    print(f"error: {message}", file=sys.stderr)
    return int(getattr(exc, "exit_code", 2))


PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
"""What pydantic puts before the message of a validator's ValueError or assert."""


def validation_text(error: dict) -> str:
    """The message of one of pydantic's ``ValidationError.errors()`` as a user reads it: a
    validator's own words, without pydantic's ``Value error, `` prefix."""
    message = str(error.get("msg", ""))
    for prefix in PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def listed(items: list[Any], most: int = 5, sep: str = ", ") -> str:
    """The first ``most`` items as text, and how many more there are (``a, b and 3 more``)."""
    rest = len(items) - most
    return sep.join(map(str, items[:most])) + (f" and {rest} more" if rest > 0 else "")


def value_kind(value: object) -> str:
    """What a wrong value is, for messages: ``None``, ``a list``, ``a pandas DataFrame``."""
    if value is None:
        return "None"
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return f"a {kind.__name__}" if module == "builtins" else f"a {module} {kind.__name__}"


def is_pandas(value: object) -> bool:
    """Whether ``value`` is a pandas object (a DataFrame or Series), without importing it."""
    return type(value).__module__.split(".")[0] == "pandas"


def warning_line(message: Warning | str, category: type[Warning]) -> str:
    """A Python warning as the commands show it: ``warning: <message>``, on one line (no
    source file, no source line: a user of the command cannot act on them), with its category
    when it says more than "a warning" (``warning: FutureWarning: ...``)."""
    kind = "" if category is UserWarning else f"{category.__name__}: "
    return f"warning: {kind}{' '.join(str(message).split())}"


def escape_unencodable_output() -> None:
    """For a command: characters stdout's encoding cannot hold are written as ``\\u``
    escapes, as Python writes them on stderr, instead of failing the command once its work
    is done. On Windows, output redirected to a file or a pipe (a scheduler's log) is encoded
    in the locale's code page (cp1250, cp1252), which has no Cyrillic letters, and cp1252 no
    ``č`` or ``ł``: a run whose folder was named so succeeded, then exited 1."""
    stream = sys.stdout
    if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
        with contextlib.suppress(Exception):  # a stream that cannot change: left as it is
            stream.reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show each Python warning raised inside (by a library, a plugin) once, as one line on
    stderr (:func:`warning_line`). Python's filters still decide which are shown; a run
    keeps the warnings of its steps in its records instead (see ``Runner.step``)."""
    import warnings

    shown: set[str] = set()
    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        text = warning_line(message, category)
        if text not in shown:
            shown.add(text)
            print(text, file=sys.stderr, flush=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous
