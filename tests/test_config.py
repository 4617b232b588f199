"""Settings are declared once: each field says whether it changes answers (the cache key), needs the reader
built again, and is saved; the cache key, the reload decision and the saved values all follow."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from qa_reader.config import Settings
from qa_reader.engine import Engine
from tests.conftest import LIFE_CYCLE, text_document

ROLES = ("answers", "reload", "saved")


def _changed(settings: Settings, name: str) -> Settings:
    """The settings with one field set to another value of its type."""
    value = getattr(settings, name)
    if isinstance(value, str):
        return replace(settings, **{name: value + "other"})
    other = 0.75 if value is None else value + 1 if isinstance(value, int) else value * 2 + 0.5
    return replace(settings, **{name: other})


def test_every_setting_declares_each_role() -> None:
    for item in fields(Settings):
        assert set(item.metadata) == set(ROLES), item.name


@pytest.mark.parametrize("name", [item.name for item in fields(Settings)])
def test_a_setting_is_in_the_cache_key_exactly_when_it_changes_answers(name: str) -> None:
    settings = Settings()
    changes_key = _changed(settings, name).cache_key() != settings.cache_key()
    assert changes_key == (name in Settings.names("answers"))


@pytest.mark.parametrize("name", [item.name for item in fields(Settings)])
def test_a_setting_rebuilds_the_reader_exactly_when_declared_so(name: str, tiny_model_dir) -> None:
    engine = Engine(None, tiny_model_dir)
    engine.load_model()
    engine.update_settings(_changed(engine.settings, name))
    assert engine.model_loaded == (name not in Settings.names("reload"))
    engine.close()


def test_saved_settings_come_back_and_the_others_keep_their_defaults() -> None:
    settings = Settings()
    for name in [item.name for item in fields(Settings)]:
        settings = _changed(settings, name)
    again = Settings.from_saved(settings.saved())
    for item in fields(Settings):
        expected = getattr(settings if item.name in Settings.names("saved") else Settings(), item.name)
        assert getattr(again, item.name) == expected, item.name


def test_unreadable_saved_values_fall_back_to_the_defaults() -> None:
    again = Settings.from_saved({"passages_to_read": "many", "threshold": "", "threads": None})
    assert again == Settings()


def test_a_changed_setting_that_changes_answers_is_never_served_from_the_cache(tiny_model_dir) -> None:
    engine = Engine(None, tiny_model_dir)
    document_id = engine.add_document(text_document(LIFE_CYCLE))
    engine.ask("What are the phases?", [document_id])
    engine.update_settings(replace(engine.settings, max_answer_tokens=3))
    assert not engine.ask("What are the phases?", [document_id]).from_cache
    engine.close()
