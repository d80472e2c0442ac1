"""Errors that are part of the interface: one clear sentence each, shown without a traceback."""

from __future__ import annotations


class MlstatError(Exception):
    """Base of every error a user can cause and fix; the CLI prints it and exits with code 2."""

    exit_code = 2


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
    ) -> None:
        self.file = file
        self.field = field
        self.message = message
        self.suggestion = suggestion

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


class DataError(MlstatError):
    """Input data is missing, empty, unreadable or does not match what the pipeline declares."""


class IntegrityError(MlstatError):
    """A file in a run folder does not match the SHA-256 recorded in its manifest."""


class ModelError(MlstatError):
    """A model cannot do what was asked (not fitted, unknown labels, missing optional extra)."""
