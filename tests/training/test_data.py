"""Training data: the held-out slice, hard negatives from the same article, unanswerable examples."""

import json

from qa_reader import squad
from qa_reader.training.data import SILVER_SOURCE, Source, load_examples, same_document_negatives, split_held_out


def _q(qid: str, title: str, context: str, question: str, answer: str = "") -> squad.Question:
    answers = (answer,) if answer else ()
    starts = (context.index(answer),) if answer else ()
    return squad.Question(qid, title, context, question, answers, starts, 0)


def test_the_held_out_slice_keeps_whole_articles_together_and_is_about_one_in_twenty():
    questions = [_q(f"{a}-{p}", f"article {a}", f"paragraph {p} of {a}", "q?") for a in range(400) for p in range(3)]
    train, held = split_held_out("src", questions)
    held_titles = {q.title for q in held}
    assert held_titles.isdisjoint({q.title for q in train})
    assert 8 <= len(held_titles) <= 35  # 5 % of 400 articles is 20
    assert split_held_out("src", questions)[1] == held  # fixed, not random
    assert {q.title for q in split_held_out("other source", questions)[1]} != held_titles


def test_files_with_few_articles_are_held_out_by_paragraph():
    questions = [_q(str(p), "the only article", f"paragraph number {p}", "q?") for p in range(400)]
    train, held = split_held_out("src", questions)
    assert train and held
    assert {q.context for q in held}.isdisjoint({q.context for q in train})


def test_a_silver_file_of_only_its_held_out_articles_holds_them_all_out():
    questions = [_q(f"{a}-{p}", f"article {a}", f"paragraph {p} of {a}", "q?") for a in range(200) for p in range(3)]
    held = split_held_out(SILVER_SOURCE, questions)[1]
    assert 3 <= len({q.title for q in held}) < 20  # fewer articles than a file needs to be held out by article
    assert split_held_out(SILVER_SOURCE, held) == ([], held)  # still by article: every one of them again
    assert split_held_out("src", held)[0]  # another source with so few articles goes by paragraph


ARTICLE = [
    "The harbour bridge was opened in 1932 by the premier.",
    "The bridge carries rail, vehicles, bicycles and pedestrians across the harbour.",
    "Tourists climb the bridge arch every day.",
    "The opera house stands on a point of land.",
]


def test_hard_negatives_are_the_best_matching_other_paragraphs_of_the_article_without_the_answer():
    question = _q("q", "Bridge", ARTICLE[0], "When was the harbour bridge opened?", "1932")
    others = [_q(f"o{i}", "Bridge", text, "Something?") for i, text in enumerate(ARTICLE[1:])]
    pairs = same_document_negatives([question], [question, *others], per_question=3)
    # [1] shares "harbour" and "bridge", [2] only "bridge", [3] nothing: not something search would read.
    assert [text for _, text in pairs] == [ARTICLE[1], ARTICLE[2]]


def test_a_paragraph_that_holds_the_answer_is_never_a_negative():
    question = _q("q", "Bridge", ARTICLE[0], "When was the harbour bridge opened?", "1932")
    holding = "In 1932 the harbour bridge was opened with a ribbon."
    others = [_q("o", "Bridge", holding, "x?"), *(_q(f"o{i}", "Bridge", t, "x?") for i, t in enumerate(ARTICLE[1:]))]
    pairs = same_document_negatives([question], [question, *others], per_question=3)
    assert holding not in [text for _, text in pairs]


def test_load_examples_points_unanswerable_questions_and_negatives_at_cls(tmp_path):
    paragraphs = [
        {
            "context": ARTICLE[0],
            "qas": [
                {
                    "id": "a",
                    "question": "When was the harbour bridge opened?",
                    "answers": [{"text": "1932", "answer_start": 31}],
                },
                {"id": "b", "question": "Who closed the harbour bridge?", "answers": []},
            ],
        },
        {
            "context": ARTICLE[1],
            "qas": [{"id": "c", "question": "What does it carry?", "answers": [{"text": "rail", "answer_start": 22}]}],
        },
        {
            "context": ARTICLE[2],
            "qas": [{"id": "d", "question": "Who climbs it?", "answers": [{"text": "Tourists", "answer_start": 0}]}],
        },
    ]
    (tmp_path / "set.json").write_text(json.dumps({"data": [{"title": "Bridge", "paragraphs": paragraphs}]}))
    examples = load_examples(
        tmp_path, [Source("set", "set.json", 1.0, "")], negative_fraction=0.0, hard_negative_fraction=1.0
    )["set"]
    by_context = {(e.question, e.context): e.answer_start for e in examples}
    assert by_context[("When was the harbour bridge opened?", ARTICLE[0])] == 31
    assert by_context[("Who closed the harbour bridge?", ARTICLE[0])] == -1
    assert by_context[("When was the harbour bridge opened?", ARTICLE[1])] == -1
    # A negative shares its question's group; different questions have different groups.
    groups = {(e.question, e.context): e.group for e in examples}
    opened = [g for (q, _), g in groups.items() if q == "When was the harbour bridge opened?"]
    assert len(opened) >= 2 and len(set(opened)) == 1
    assert len({g for (q, c), g in groups.items() if c == ARTICLE[0]}) == 2


def test_grouped_batches_keep_each_questions_windows_together_and_cover_every_group():
    import numpy as np

    from qa_reader.training.data import Feature, grouped_epoch_order

    def feature(group: int, length: int) -> Feature:
        return Feature(np.zeros(length, dtype=np.int64), 0, 0, 0, group, 1)

    sizes = [1, 2, 3, 1, 2, 4, 1, 1, 3, 2] * 5
    features = {"a": [feature(g, 10 + g % 7) for g, n in enumerate(sizes) for _ in range(n)], "b": [feature(0, 20)]}
    batches = grouped_epoch_order(features, {"a": 1.0, "b": 2.0}, epoch=0, seed=1, batch_size=8, bucket_batches=2)
    assert all(len(batch) <= 8 for batch in batches)
    seen: dict[tuple[str, int], int] = {}
    for number, batch in enumerate(batches):
        for name, index in batch:
            key = (name, features[name][index].group)
            assert seen.setdefault(key, number) == number or key == ("b", 0)  # one batch per group (b is drawn twice)
    assert len(seen) == len(sizes) + 1
    count = sum(len(batch) for batch in batches)
    assert count == sum(sizes) + 2
    again = grouped_epoch_order(features, {"a": 1.0, "b": 2.0}, epoch=0, seed=1, batch_size=8, bucket_batches=2)
    assert again == batches
