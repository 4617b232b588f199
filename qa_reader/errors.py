"""The error hierarchy: the input's fault (a sentence for people) versus our own bug."""

from __future__ import annotations

from qa_reader.types import FailureReason


class QAReaderError(Exception):
    """Base of every error QA Reader raises on purpose."""


class UserError(QAReaderError):
    """The input's or the environment's fault: a corrupt file, an empty question, a missing model.

    `str(error)` is one sentence meant for the person using the app.
    """


class DocumentError(UserError):
    """A file that cannot be indexed. `reason` says why as a code, which the library stores beside the
    sentence and the GUI shows by; code never reads the sentence."""

    def __init__(self, message: str, reason: FailureReason) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self):
        # Rebuilt with both arguments when it crosses a process boundary (`eval --jobs`' workers).
        return type(self), (str(self), self.reason)


def failure_reason(error: UserError) -> FailureReason:
    """Why a file failed to index with this error (a UserError that names no reason: it could not be read)."""
    return error.reason if isinstance(error, DocumentError) else FailureReason.UNREADABLE


class InternalError(QAReaderError):
    """A bug in QA Reader: worth a report, never the user's fault."""
