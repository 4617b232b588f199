"""The error hierarchy: the input's fault (a sentence for people) versus our own bug."""

from __future__ import annotations


class QAReaderError(Exception):
    """Base of every error QA Reader raises on purpose."""


class UserError(QAReaderError):
    """The input's or the environment's fault: a corrupt file, an empty question, a missing model.

    `str(error)` is one sentence meant for the person using the app.
    """


class InternalError(QAReaderError):
    """A bug in QA Reader: worth a report, never the user's fault."""
