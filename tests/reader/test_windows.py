"""Windows: question + context slices with a stride, offsets kept, dynamic padding."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_reader.reader.windows import NOT_CONTEXT, WindowMaker, WindowSettings
from tests.support.tiny_model import build_tokenizer

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def _maker(max_length=32, stride=8):
    return WindowMaker(
        build_tokenizer(WORDS), WindowSettings(max_length=max_length, doc_stride=stride, max_question_tokens=6)
    )


def test_window_layout_is_cls_question_sep_context_sep():
    maker = _maker()
    [context] = maker.tokenize(["alpha beta gamma"])
    [window] = maker.windows(maker.question_ids("delta?"), [context])
    ids = window.input_ids.tolist()
    assert ids[0] == maker.cls_id and ids[-1] == maker.sep_id
    assert ids[window.context_token_start - 1] == maker.sep_id
    assert window.context_mask.sum() == 3
    assert (window.char_offsets[~window.context_mask] == NOT_CONTEXT).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=120), st.integers(16, 40), st.integers(1, 12))
def test_windows_cover_every_context_token_and_respect_max_length(words, max_length, stride):
    maker = _maker(max_length, stride)
    text = " ".join(words)
    [context] = maker.tokenize([text])
    question = maker.question_ids("what is alpha")
    seen = set()
    for window in maker.windows(question, [context]):
        assert len(window.input_ids) <= max_length
        count = int(window.context_mask.sum())
        seen.update(range(window.first_context_token, window.first_context_token + count))
        for start, end in window.char_offsets[window.context_mask]:
            assert text[start:end].lower() in WORDS
    assert seen == set(range(len(context)))


def test_pad_pads_to_the_longest_window_in_the_batch_only():
    maker = _maker(max_length=64)
    contexts = maker.tokenize(["alpha", "alpha beta gamma delta epsilon"])
    windows = maker.windows(maker.question_ids("eta"), contexts)
    batch = maker.pad(windows)
    longest = max(len(w.input_ids) for w in windows)
    assert batch["input_ids"].shape == (2, longest)
    assert batch["attention_mask"].sum(axis=1).tolist() == [len(w.input_ids) for w in windows]
    assert (batch["input_ids"][0, len(windows[0].input_ids) :] == maker.pad_id).all()
    assert batch["token_type_ids"][1, windows[1].context_token_start] == 1
    assert batch["token_type_ids"][1, 0] == 0
    assert batch["input_ids"].dtype == np.int64


def test_successive_windows_start_a_stride_apart_and_overlap():
    maker = _maker(max_length=16, stride=4)
    # 16 tokens less [CLS], [SEP], [SEP] and a 3-token question leave 10 context tokens a window.
    assert maker.context_window_starts(question_length=3, context_length=20) == [0, 4, 8, 12]
    [context] = maker.tokenize([" ".join(WORDS * 3)])
    first, second, *_ = maker.windows(maker.question_ids("alpha beta gamma"), [context])
    assert second.first_context_token == 4
    shared = first.input_ids[first.context_token_start + 4 : -1]
    assert shared.tolist() == second.input_ids[second.context_token_start : second.context_token_start + 6].tolist()
