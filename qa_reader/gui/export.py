"""The session's questions and answers, and batch sheets, as Markdown or CSV with citations; answers are
written as people read them (glyphs.readable), not with the PDF's unshowable glyphs."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from qa_reader.glyphs import readable
from qa_reader.types import Answer, AnswerSet


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(readable(text).split()).replace("|", "\\|")


def session_markdown(results: Sequence[AnswerSet], when: datetime | None = None) -> str:
    """A Markdown report: each question with its answers (or best guesses), confidence and citation."""
    when = when or datetime.now()
    lines = ["# QA Reader session", "", f"Exported {when:%Y-%m-%d %H:%M}.", ""]
    for number, result in enumerate(results, start=1):
        lines.append(f"## {number}. {' '.join(result.question.split())}")
        lines.append("")
        if not result.found:
            lines.append("*Not found in the document(s).*" + (" Best guesses:" if result.guesses else ""))
            lines.append("")
        for answer in result.answers or result.guesses:
            lines.append(
                f"- **{_cell(answer.text)}** — {_cell(answer.document_title)}, {answer.page_reference} "
                f"({answer.score:.0%})"
            )
            lines.append(f"  > {_cell(answer.sentence)}")
        lines.append("")
    return "\n".join(lines)


def session_csv(results: Sequence[AnswerSet]) -> str:
    """CSV: one row per answer (rank 0 marks a question without any answer)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["question", "rank", "answer", "confidence", "found", "document", "page", "path", "sentence", "page label"]
    )
    for result in results:
        listed = result.answers or result.guesses
        if not listed:
            writer.writerow([result.question, 0, "", "", "no", "", "", "", "", ""])
        for rank, answer in enumerate(listed, start=1):
            writer.writerow(
                [
                    result.question,
                    rank,
                    readable(answer.text),
                    f"{answer.score:.4f}",
                    "yes" if result.found else "no",
                    answer.document_title,
                    answer.page_number,
                    answer.document_path,
                    " ".join(readable(answer.sentence).split()),
                    answer.page_label,
                ]
            )
    return buffer.getvalue()


def batch_csv(questions: Sequence[str], titles: Sequence[str], table: dict[tuple[int, int], Answer | None]) -> str:
    """A questions × documents sheet: each cell the best answer and its page, empty when none was found."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["question", *titles])
    for row, question in enumerate(questions):
        cells = []
        for column in range(len(titles)):
            answer = table.get((row, column))
            cells.append(f"{readable(answer.text)} ({answer.page_reference}, {answer.score:.0%})" if answer else "")
        writer.writerow([question, *cells])
    return buffer.getvalue()


def batch_markdown(questions: Sequence[str], titles: Sequence[str], table: dict[tuple[int, int], Answer | None]) -> str:
    """The questions × documents sheet as a Markdown table: each cell the best answer with its page and
    confidence, "—" when none was found."""
    lines = [
        "| Question | " + " | ".join(_cell(title) for title in titles) + " |",
        "| --- |" + " --- |" * len(titles),
    ]
    for row, question in enumerate(questions):
        cells = []
        for column in range(len(titles)):
            answer = table.get((row, column))
            cells.append(f"{_cell(answer.text)} ({answer.page_reference}, {answer.score:.0%})" if answer else "—")
        lines.append(f"| {_cell(question)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
