"""Which passages the reader reads for a question: BM25 over FTS5, plus neighbours; small documents whole."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa_reader.config import Settings
from qa_reader.store import Library

_TERM = re.compile(r"[^\W_]+", re.UNICODE)
# Question words and glue that match everywhere and only dilute BM25.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if in into is it
    its many much of on or should so than that the their them then there these they this those to was were
    what when where which who whom whose why will with would you your about after before also any each
    most other some such called name named""".split()
)


def query_terms(question: str) -> list[str]:
    """The question's distinct content words, lower-cased (all its words when it has only stopwords)."""
    terms = [t.lower() for t in _TERM.findall(question)]
    content = [t for t in terms if t not in STOPWORDS] or terms
    return list(dict.fromkeys(content))


def text_terms(text: str) -> list[str]:
    """Every word of a text, lower-cased, as the search index splits it."""
    return [t.lower() for t in _TERM.findall(text)]


def fts_query(question: str) -> str | None:
    """An FTS5 OR-query of the question's content words (quoted, so no FTS syntax leaks), or None."""
    unique = query_terms(question)
    if not unique:
        return None
    return " OR ".join(f'"{term}"' for term in unique)


def relevance(library: Library, question: str, passage_ids: Sequence[int]) -> dict[int, float]:
    """BM25 relevance (higher is better, 0 when absent) of each chosen passage to the question."""
    match = fts_query(question)
    return library.bm25_scores(match, passage_ids) if match else {}


def passages_read(passage_counts: Sequence[int], settings: Settings) -> int:
    """How many passages `choose_passages` reads for a question about documents of these sizes: the small ones
    whole, and one budget (with neighbours) shared by all the large ones."""
    small = sum(count for count in passage_counts if count <= settings.read_whole_below)
    large = any(count > settings.read_whole_below for count in passage_counts)
    return small + (settings.passages_to_read + 2 * settings.neighbours_of if large else 0)


def choose_passages(library: Library, question: str, document_ids: Sequence[int], settings: Settings) -> list[int]:
    """Passage ids to read, best-first by BM25 (neighbours right after the passage that brought them).

    Documents with at most `settings.read_whole_below` passages are read whole.
    """
    chosen: dict[int, None] = {}
    large: list[int] = []
    for document_id in document_ids:
        record = library.document(document_id)
        if record.passage_count <= settings.read_whole_below:
            for passage_id, _, _ in library.passage_ids([document_id]):
                chosen[passage_id] = None
        else:
            large.append(document_id)
    if not large:
        return list(chosen)
    match = fts_query(question)
    hits = library.bm25(match, large, settings.passages_to_read) if match else []
    for rank, (passage_id, document_id, idx, _) in enumerate(hits):
        chosen[passage_id] = None
        if rank < settings.neighbours_of:
            for neighbour in (idx - 1, idx + 1):
                neighbour_id = library.passage_id(document_id, neighbour)
                if neighbour_id is not None:
                    chosen[neighbour_id] = None
    return list(chosen)
