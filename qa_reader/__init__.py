"""QA Reader: ask questions of your documents and see the answer highlighted on the page, offline."""

__version__ = "0.1.0"
