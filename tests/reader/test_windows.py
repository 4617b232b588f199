"""Windows: question + context slices with a stride, offsets kept, dynamic padding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, processors

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


def test_every_array_has_the_integer_type_the_graph_and_the_decoder_expect():
    # ONNX graphs declare int64 inputs (a float array is refused); offsets are int32 character positions.
    maker = _maker(max_length=16, stride=4)
    contexts = maker.tokenize(["alpha beta", " ".join(WORDS * 2)])
    question = maker.question_ids("gamma delta")
    assert question.dtype == np.int64
    for context in contexts:
        assert context.ids.dtype == np.int64
        assert context.char_offsets.dtype == np.int32 and context.char_offsets.shape == (len(context), 2)
    # Even with nothing to tokenise (numpy would make an empty list float64).
    assert maker.question_ids("").dtype == np.int64 and maker.tokenize([""])[0].ids.dtype == np.int64
    windows = maker.windows(question, contexts)
    for window in windows:
        assert window.input_ids.dtype == np.int64 and window.char_offsets.dtype == np.int32
    assert {name: array.dtype for name, array in maker.pad(windows).items()} == {
        "input_ids": np.int64,
        "attention_mask": np.int64,
        "token_type_ids": np.int64,
    }


def test_each_window_names_its_context():
    maker = _maker(max_length=16, stride=4)
    contexts = maker.tokenize(["alpha", " ".join(WORDS * 2), "beta"])
    windows = maker.windows(maker.question_ids("gamma"), contexts)
    indices = [window.context_index for window in windows]
    assert indices[0] == 0 and indices[-1] == 2 and set(indices) == {0, 1, 2}
    assert indices == sorted(indices)


def test_no_special_tokens_enter_the_question_or_the_context_even_if_the_tokenizer_adds_them():
    # The bundled tokenizer.json adds [CLS] ... [SEP] by itself; the window layout adds its own exactly once.
    tokenizer = build_tokenizer(WORDS)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[(token, tokenizer.token_to_id(token)) for token in ("[CLS]", "[SEP]")]
    )
    maker = WindowMaker(tokenizer, WindowSettings(max_length=32, doc_stride=8))
    special = {maker.cls_id, maker.sep_id}
    [context] = maker.tokenize(["alpha beta"])
    assert len(context) == 2 and not special & set(context.ids.tolist())
    assert maker.question_ids("gamma").tolist() == [tokenizer.token_to_id("gamma")]


def test_a_window_needs_room_for_one_context_token_at_least():
    # [CLS] question [SEP] ... [SEP]: a 5-token question fills 8 tokens before any context.
    with pytest.raises(ValueError, match="no room for the context"):
        _maker(max_length=8).context_window_starts(question_length=5, context_length=3)
    assert _maker(max_length=9, stride=4).context_window_starts(question_length=5, context_length=3) == [0, 1, 2]


def test_a_tokenizer_without_the_special_tokens_is_refused_by_name():
    tokenizer = Tokenizer(models.WordPiece(vocab={"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "alpha": 3}, unk_token="[UNK]"))
    with pytest.raises(ValueError, match=r"no \[PAD\] token"):
        WindowMaker(tokenizer)


def test_a_maker_loads_its_tokenizer_from_a_file_with_the_settings_given(tmp_path):
    path = tmp_path / "tokenizer.json"
    build_tokenizer(WORDS).save(str(path))
    settings = WindowSettings(max_length=20, doc_stride=5, max_question_tokens=2)
    maker = WindowMaker.from_file(path, settings)
    assert maker.settings == settings
    assert maker.question_ids("alpha beta gamma").tolist() == _maker().question_ids("alpha beta").tolist()
