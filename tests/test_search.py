"""Passage choice: BM25 top passages and neighbours; small documents whole."""

from qa_reader.config import Settings
from qa_reader.passages import split_passages
from qa_reader.search import choose_passages, fts_query, passages_read, query_terms, relevance, text_terms
from qa_reader.store import Library
from tests.conftest import text_document


def test_fts_query_keeps_content_words_quoted():
    assert fts_query("What are the phases of the life cycle?") == '"phases" OR "life" OR "cycle"'
    assert fts_query('Who said "AND" NEAR(x)?') == '"said" OR "near" OR "x"'
    assert fts_query("?!") is None
    assert fts_query("What is it?") == '"what" OR "is" OR "it"'


def test_accented_words_are_single_terms():
    assert query_terms("Quelle est la politique de sécurité du système ?") == [
        "quelle",
        "est",
        "la",
        "politique",
        "de",
        "sécurité",
        "du",
        "système",
    ]
    assert text_terms("Naïve Œuvre, façade") == ["naïve", "œuvre", "façade"]


def test_bm25_finds_a_passage_by_an_accented_word():
    library = Library(None)
    paragraphs = [" ".join([f"filler{i} text about nothing in particular"] * 12) for i in range(20)]
    paragraphs[12] = "La politique de sécurité est revue chaque année. " + " ".join(["détail"] * 60)
    text = "\n\n".join(paragraphs)
    document_id = library.save_document(text_document(text), split_passages(text), 1.0, 1)
    settings = Settings(passages_to_read=1, neighbours_of=0, read_whole_below=5)
    chosen = choose_passages(library, "sécurité ?", [document_id], settings)
    [(_, passage)] = library.passage_rows(chosen).values()
    assert passage.index == 12


def _long_document():
    paragraphs = [" ".join([f"filler{i} text about nothing in particular"] * 12) for i in range(40)]
    paragraphs[25] = "The secret ingredient of the recipe is saffron. " + " ".join(["spice detail"] * 30)
    return "\n\n".join(paragraphs)


def test_bm25_finds_the_passage_and_brings_its_neighbours():
    library = Library(None)
    text = _long_document()
    passages = split_passages(text)
    document_id = library.save_document(text_document(text), passages, 1.0, 1)
    settings = Settings(passages_to_read=3, neighbours_of=1, read_whole_below=5)
    chosen = choose_passages(library, "What is the secret ingredient?", [document_id], settings)
    rows = library.passage_rows(chosen)
    first = rows[chosen[0]][1]
    assert "saffron" in first.text
    indexes = {rows[i][1].index for i in chosen}
    assert {first.index - 1, first.index + 1} <= indexes
    assert len(chosen) <= 3 + 2


def test_passages_read_counts_small_documents_whole_and_one_budget_for_all_the_large():
    settings = Settings(passages_to_read=12, neighbours_of=2, read_whole_below=16)
    assert passages_read([3, 16], settings) == 19
    assert passages_read([3, 17, 900], settings) == 3 + 12 + 2 * 2
    assert passages_read([], settings) == 0


def test_passages_read_bounds_what_choose_passages_reads():
    library = Library(None)
    long_text, short_text = _long_document(), "A short note.\n\nWith two paragraphs."
    ids = [
        library.save_document(text_document(long_text), split_passages(long_text), 1.0, 1),
        library.save_document(
            text_document(short_text, "/virtual/short.txt", "sha-s"), split_passages(short_text), 1, 1
        ),
    ]
    settings = Settings(passages_to_read=3, neighbours_of=1, read_whole_below=5)
    chosen = choose_passages(library, "What is the secret ingredient of the recipe?", ids, settings)
    counts = [library.document(document_id).passage_count for document_id in ids]
    assert len(chosen) <= passages_read(counts, settings)
    assert passages_read(counts[1:], settings) == len(choose_passages(library, "anything", ids[1:], settings))


def test_small_documents_are_read_whole():
    library = Library(None)
    text = "\n\n".join(" ".join([f"para{i}"] * 70) for i in range(4))
    document_id = library.save_document(text_document(text), split_passages(text), 1.0, 1)
    chosen = choose_passages(library, "unrelated question", [document_id], Settings(read_whole_below=10))
    assert len(chosen) == 4


def test_table_of_contents_passages_are_not_chosen():
    library = Library(None)
    contents = "\n".join(f"Chapter {i} secret ingredient ..................... {i * 7}" for i in range(1, 30))
    body = "\n\n".join(" ".join([f"filler{i} words that say little"] * 14) for i in range(30))
    text = contents + "\n\n" + body + "\n\nThe secret ingredient is saffron, added at the end. " + "more " * 60
    document_id = library.save_document(text_document(text), split_passages(text), 1.0, 1)
    chosen = choose_passages(library, "What is the secret ingredient?", [document_id], Settings(read_whole_below=5))
    texts = [passage.text for _, passage in library.passage_rows(chosen).values()]
    assert any("saffron" in t for t in texts)
    assert not any("....." in t for t in texts)


def test_relevance_scores_only_matching_passages_higher_for_better_matches():
    library = Library(None)
    text = _long_document()
    passages = split_passages(text)
    document_id = library.save_document(text_document(text), passages, 1.0, 1)
    all_ids = [passage_id for passage_id, _, _ in library.passage_ids([document_id])]
    scores = relevance(library, "What is the secret ingredient saffron?", all_ids)
    rows = library.passage_rows(list(scores))
    best = max(scores, key=scores.get)
    assert "saffron" in rows[best][1].text
    assert all(value > 0 for value in scores.values())
    assert len(scores) < len(all_ids)  # passages without any of the words get no score
    assert relevance(library, "?!", all_ids) == {}


def test_only_the_configured_number_of_hits_bring_their_neighbours():
    library = Library(None)
    paragraphs = [" ".join([f"filler{i} text about nothing in particular"] * 12) for i in range(40)]
    # Three hits in a clear BM25 order: passage 10 (both words, twice), 20 (both), 30 (one).
    paragraphs[10] = "Saffron is kept dry. Saffron is kept cool. " + " ".join(["spice detail"] * 30)
    paragraphs[20] = "Saffron is kept in a jar. " + " ".join(["spice detail"] * 30)
    paragraphs[30] = "Saffron comes from a crocus. " + " ".join(["spice detail"] * 30)
    text = "\n\n".join(paragraphs)
    document_id = library.save_document(text_document(text), split_passages(text), 1.0, 1)
    settings = Settings(passages_to_read=3, neighbours_of=1, read_whole_below=5)
    chosen = choose_passages(library, "Where is saffron kept?", [document_id], settings)
    rows = library.passage_rows(chosen)
    assert [rows[i][1].index for i in chosen] == [10, 9, 11, 20, 30]


def test_a_document_of_exactly_the_whole_reading_size_is_read_whole():
    library = Library(None)
    text = _long_document()
    document_id = library.save_document(text_document(text), split_passages(text), 1.0, 1)
    count = library.document(document_id).passage_count
    whole = Settings(passages_to_read=1, neighbours_of=0, read_whole_below=count)
    assert len(choose_passages(library, "What is the secret ingredient?", [document_id], whole)) == count
    searched = Settings(passages_to_read=1, neighbours_of=0, read_whole_below=count - 1)
    assert len(choose_passages(library, "What is the secret ingredient?", [document_id], searched)) == 1


def test_a_question_without_words_reads_nothing_of_a_large_document_but_all_of_a_small_one():
    library = Library(None)
    large_text = _long_document()
    large = library.save_document(text_document(large_text), split_passages(large_text), 1.0, 1)
    small = library.save_document(
        text_document("A short note.", "/virtual/note.txt", "sha-note"), split_passages("A short note."), 1.0, 1
    )
    settings = Settings(passages_to_read=3, neighbours_of=1, read_whole_below=5)
    assert choose_passages(library, "?!", [large], settings) == []
    [passage_id] = choose_passages(library, "?!", [small, large], settings)
    assert library.passage_rows([passage_id])[passage_id][1].text == "A short note."
