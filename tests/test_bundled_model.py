"""The bundled model: its checksum, its recorded scores, and golden answers with probability ranges
(reference outputs with tolerances, so a re-export or a runtime upgrade that changes answers fails).

Set QA_READER_MODEL to a model folder to run the same checks on another model. A folder whose manifest
carries the bundled model's name claims to be that model (a re-export, a copy), so it is held to the
reference answers and probabilities; a candidate under another name is held only to the floors that any
decent SQuAD reader meets. packaging/perturb_model.py makes damaged copies that this file must reject:

    python packaging/perturb_model.py models/minilm-distilbert-squad-int8 /tmp/scaled --kind scale
    QA_READER_MODEL=/tmp/scaled python -m pytest tests/test_bundled_model.py

When the bundled model is replaced on purpose, measure the reference probabilities again (one window per
question, Reader.predict with one thread) and write them below.
"""

from __future__ import annotations

import hashlib
import json
import os
from statistics import mean
from typing import NamedTuple

import numpy as np
import pytest

from qa_reader import config, squad
from qa_reader.engine import Engine
from qa_reader.reader.build import Prediction, Reader, build_reader
from qa_reader.reader.model import ModelFolder
from qa_reader.reader.predict import ReadRequest

MODEL = config.default_model_dir()
# A checkout without the bundled model skips; a candidate named by QA_READER_MODEL never does.
pytestmark = pytest.mark.skipif(
    not os.environ.get(config.MODEL_VARIABLE) and not (MODEL / "model.onnx").exists(),
    reason="no bundled model in this checkout",
)


def _claims_to_be_the_bundled_model() -> bool:
    manifest = MODEL / "manifest.json"
    return manifest.exists() and json.loads(manifest.read_text("utf-8")).get("name") == config.DEFAULT_MODEL_NAME


IS_REFERENCE = _claims_to_be_the_bundled_model()
only_the_reference = pytest.mark.skipif(not IS_REFERENCE, reason="reference outputs of the bundled model")


class Golden(NamedTuple):
    """A question whose answer is in its context: the accepted answers, and the bundled model's probability."""

    context: str
    question: str
    answers: tuple[str, ...]


class Unanswerable(NamedTuple):
    """A question its context does not answer, and the bundled model's no-answer probability."""

    context: str
    question: str


# How far a probability may move. Measured on this file's questions with release 2 (one window per question, as
# Reader.predict reads them): 1 vs 2 onnxruntime threads and repeated runs give identical outputs; the
# graph run without onnxruntime's fusions (ORT_DISABLE_ALL, the nearest to a change of kernels that can be
# measured here) moves one span probability by 0.058, the others by at most 0.031, the no-answer
# probabilities by at most 0.010, and the means by 0.001 (spans) and 0.002 (no-answer). Reading the
# same windows in padded batches of 8 or 32 moves them far more (up to 0.23; 2 or 3 of the 50 answers are
# lost): int8 activations are quantized with one scale per batch, so these references hold for single
# windows only. Logits scaled by 0.9 lower every span probability by 0.015 to 0.08 (the mean by 0.046) and
# the no-answer mean by 0.04: a one-sided shift that only the means can see without failing a kernel change.
# Which CPU runs the graph mattered more for release 2's 8-bit weights: onnxruntime multiplies int8 exactly
# where the CPU has VNNI (or on ARM), but with 16-bit saturation of pairs of products on AVX2 (and AVX-512
# without VNNI), and the two gave span probabilities up to 0.105 apart on these questions. The bundled
# model's weights use 7 bits (packaging/golden_references.py checks), so no product saturates and one set
# of references holds on every CPU.
PROBABILITY_TOLERANCE = 0.08  # per question: above the 0.058 of the fusions
NULL_PROBABILITY_TOLERANCE = 0.03  # per question: three times the 0.010 of the fusions
MEAN_TOLERANCE = 0.015  # the means: over ten times the fusions' shift, a third of the 0.9 scale's

# Texts written for these tests. Questions release 1 got wrong were made clearer, not dropped.
HARBOUR = (
    "The Harbour Bridge was opened in 1932 after eight years of construction. It was designed by the "
    "engineer John Bradfield and carries rail, vehicle and pedestrian traffic across the harbour."
)
PHOTOSYNTHESIS = (
    "Photosynthesis takes place in the chloroplasts of plant cells. Using the energy of sunlight, the "
    "plant turns carbon dioxide and water into glucose, and releases oxygen as a by-product."
)
INCIDENTS = (
    "The incident response life cycle has four phases: preparation, detection and analysis, "
    "containment, eradication and recovery, and post-incident activity."
)
POLE = (
    "The 1911 expedition to the South Pole was led by the Norwegian explorer Roald Amundsen. His team "
    "travelled with sledges pulled by dogs and reached the pole on 14 December 1911, five weeks before the "
    "British party led by Robert Falcon Scott."
)
INSULIN = (
    "Insulin is a hormone made by the beta cells of the pancreas. It lets the cells of the body take up "
    "glucose from the blood, and a lack of insulin causes the disease known as type 1 diabetes."
)
CANAL = (
    "The Kessel Canal was completed in 1874 by the Northern Waterways Company. It links the port of Ardmore "
    "with the inland town of Fennick and was built to carry coal from the Fennick mines to the ships waiting "
    "at the coast."
)
VIOLINIST = (
    "The violinist Maria Okonkwo gave her first public concert at the age of nine in Lagos. She later studied "
    "at the Royal Academy of Music in London, where she won the Gold Medal in 1998."
)
LIBRARY = (
    "The city council approved the plans for a new library on 3 March 2015, and the building opened to the "
    "public in the autumn of 2018. It holds about 400,000 books and a collection of old maps of the region."
)
GRANITE = (
    "Granite is an igneous rock that forms when magma cools slowly deep below the surface of the Earth. "
    "Because the magma cools slowly, large crystals of quartz and feldspar have time to grow."
)
CABLE = (
    "The first transatlantic telegraph cable was laid in 1858 by the steamships Agamemnon and Niagara. The "
    "project was led by the American businessman Cyrus West Field, but the cable failed after only three weeks."
)
GLACIER = (
    "The Orvik Glacier has retreated by 2.4 kilometres since measurements began in 1950. Scientists at the "
    "University of Bergen blame the retreat on rising summer temperatures and lower winter snowfall."
)
FINAL = (
    "In the 1966 final at Wembley Stadium, England beat West Germany 4-2 after extra time. Geoff Hurst scored "
    "three goals, the only hat-trick in a World Cup final for more than fifty years."
)
BREAD = (
    "To make the bread rise, the baker adds a small amount of dried yeast to warm water and leaves the dough "
    "in a warm place for two hours. The loaf is then baked at 220 degrees Celsius for about forty minutes."
)
KITS = (
    "The company was founded in 2003 by two former teachers, Helen Marsh and David Obi, who wanted to sell "
    "cheap science kits to schools. In 2011 the company moved its headquarters to Manchester."
)
SCURVY = (
    "A lack of vitamin C causes scurvy, a disease that was common among sailors on long voyages. In 1747 the "
    "Scottish surgeon James Lind showed that citrus fruits such as oranges and lemons could cure it."
)
CAMERA = (
    "The Lumen X2 camera has a 24-megapixel sensor and can record video at 60 frames per second. Its battery "
    "lasts for around 500 photographs on a single charge."
)
RIVER = (
    "The river Tamsa rises in the Velka Hills and flows east for 312 kilometres before it joins the Danube "
    "near the town of Orsel."
)
PAINTING = (
    "The painting known as The Blue Orchard was finished in 1889 by the Dutch artist Pieter van Hal. It now "
    "hangs in the National Gallery of Scotland in Edinburgh."
)
PENGUINS = (
    "Emperor penguins breed during the Antarctic winter. The male keeps the single egg warm on his feet for "
    "about sixty-five days while the female returns to the sea to feed."
)
TREATY = (
    "The treaty was signed in Vienna on 9 June 1815 by the representatives of eight European powers. It "
    "redrew the borders of Europe after the defeat of Napoleon."
)
PROBE = (
    "The probe Meridian was launched in 2031 to study the moons of Jupiter. It carries a radar instrument "
    "designed to measure the thickness of the ice on Europa."
)
WHEAT = (
    "The price of wheat rose sharply in 1846 because a disease destroyed much of the potato harvest, and many "
    "families who had lived on potatoes had to buy bread instead."
)
TOWER = (
    "The west tower of the cathedral is 98 metres tall and was added in the fifteenth century. Its architect, "
    "Brother Anselm of Tours, died before it was finished."
)
SCHOOL = (
    "Students at the school learn three foreign languages: French, German and Mandarin Chinese. Lessons in "
    "Mandarin Chinese were introduced in 2009 with the help of a grant from the city."
)
NIGHT_TRAIN = (
    "The night train from Vienna to Rome leaves at 7:40 in the evening and arrives at 9:15 the next morning. "
    "Passengers can choose between a seat, a couchette or a private sleeping compartment."
)
PYTHON = (
    "The programming language Python was created by Guido van Rossum and first released in February 1991. "
    "Its name was taken from the British comedy group Monty Python."
)
BOILING = (
    "Water boils at 100 degrees Celsius at sea level, but on the summit of Mount Everest it boils at about 70 "
    "degrees because the air pressure there is much lower."
)
HOSPITAL = (
    "Queen Eleanor founded the hospital of Saint Luke in 1172 to care for pilgrims who fell ill on the road "
    "to the coast."
)
TERRACES = (
    "Farmers in the valley grow rice in flooded terraces cut into the hillsides. The terraces were built more "
    "than a thousand years ago by the Ifugao people."
)
NOVEL = (
    "The novel The Silent Harbour, written by Ines Calder, tells the story of a lighthouse keeper's daughter "
    "during the Second World War. In 2004 the novel won the Costa Book Award."
)
MUSEUM = (
    "The Harwick Museum opened in 1921 in a former cotton mill. Its collection includes steam engines, looms "
    "and photographs of the workers who once lived in the town."
)
BEES = (
    "Honeybees tell each other the direction of flowers with a waggle dance performed inside the hive. The "
    "length of the dance shows how far away the flowers are."
)
SEVERN = "The bridge across the Severn estuary was opened in 1966 and carries the motorway between England and Wales."
RECIPE = "The recipe calls for flour, butter, sugar and two eggs, mixed together and baked until golden."
KILIMANJARO = (
    "Mount Kilimanjaro in Tanzania is the highest mountain in Africa. Its summit is covered by glaciers that "
    "have shrunk quickly over the last century."
)


def _sample_paragraph(containing: str) -> str:
    """The paragraph of the bundled sample document that contains `containing`, on one line."""
    text = (config.resources_dir() / "sample" / "welcome.md").read_text(encoding="utf-8")
    [paragraph] = [p for p in text.split("\n\n") if containing in p]
    return " ".join(paragraph.split())


GOLDEN = [
    Golden(HARBOUR, "Who designed the Harbour Bridge?", ("John Bradfield",)),
    Golden(HARBOUR, "When was the bridge opened?", ("1932",)),
    Golden(PHOTOSYNTHESIS, "What does the plant release as a by-product?", ("oxygen",)),
    Golden(INCIDENTS, "How many phases does the incident response life cycle have?", ("four",)),
    Golden(_sample_paragraph("designed it was Tomas Hallgren"), "Who designed the lighthouse?", ("Tomas Hallgren",)),
    Golden(_sample_paragraph("The first keeper was Ada Lindqvist"), "Who was the first keeper?", ("Ada Lindqvist",)),
    Golden(_sample_paragraph("café in the old oil store"), "What does the café serve?", ("cardamom buns",)),
    Golden(POLE, "Who led the British party?", ("Robert Falcon Scott",)),
    Golden(POLE, "When did the expedition reach the pole?", ("14 December 1911",)),
    Golden(INSULIN, "What disease does a lack of insulin cause?", ("type 1 diabetes",)),
    Golden(CANAL, "Which company completed the Kessel Canal?", ("Northern Waterways Company",)),
    Golden(
        CANAL,
        "Why was the Kessel Canal built?",
        (
            "to carry coal from the Fennick mines to the ships waiting at the coast",
            "to carry coal from the Fennick mines",
        ),
    ),
    Golden(
        VIOLINIST,
        "Where did Maria Okonkwo study?",
        ("the Royal Academy of Music", "the Royal Academy of Music in London"),
    ),
    Golden(VIOLINIST, "How old was Maria Okonkwo at her first public concert?", ("nine", "the age of nine")),
    Golden(LIBRARY, "When did the city council approve the plans for the library?", ("3 March 2015",)),
    Golden(LIBRARY, "How many books does the library hold?", ("about 400,000", "400,000")),
    Golden(
        GRANITE, "Why do large crystals grow in granite?", ("the magma cools slowly", "because the magma cools slowly")
    ),
    Golden(GRANITE, "What kind of rock is granite?", ("an igneous rock", "igneous")),
    Golden(
        CABLE, "Who led the telegraph cable project?", ("Cyrus West Field", "the American businessman Cyrus West Field")
    ),
    Golden(CABLE, "How long did the cable work before it failed?", ("only three weeks", "three weeks")),
    Golden(GLACIER, "How far has the Orvik Glacier retreated?", ("2.4 kilometres",)),
    Golden(
        GLACIER,
        "What do the scientists blame the retreat on?",
        ("rising summer temperatures and lower winter snowfall",),
    ),
    Golden(FINAL, "Who scored three goals in the final?", ("Geoff Hurst",)),
    Golden(FINAL, "Where was the 1966 final played?", ("Wembley Stadium",)),
    Golden(BREAD, "At what temperature is the loaf baked?", ("220 degrees Celsius",)),
    Golden(BREAD, "How long is the dough left in a warm place?", ("two hours",)),
    Golden(
        KITS,
        "Who founded the company?",
        ("Helen Marsh and David Obi", "two former teachers, Helen Marsh and David Obi"),
    ),
    Golden(KITS, "Which city did the company move its headquarters to in 2011?", ("Manchester",)),
    Golden(
        SCURVY, "Who showed that citrus fruits could cure scurvy?", ("James Lind", "the Scottish surgeon James Lind")
    ),
    Golden(CAMERA, "How many photographs does the battery last for?", ("around 500", "500")),
    Golden(CAMERA, "What sensor does the Lumen X2 have?", ("a 24-megapixel sensor",)),
    Golden(RIVER, "Where does the Tamsa join the Danube?", ("near the town of Orsel", "the town of Orsel", "Orsel")),
    Golden(RIVER, "How long is the river Tamsa?", ("312 kilometres",)),
    Golden(PAINTING, "Who painted The Blue Orchard?", ("Pieter van Hal", "the Dutch artist Pieter van Hal")),
    Golden(
        PAINTING,
        "Where does The Blue Orchard hang now?",
        ("the National Gallery of Scotland", "the National Gallery of Scotland in Edinburgh"),
    ),
    Golden(PENGUINS, "How long does the male keep the egg warm?", ("about sixty-five days", "sixty-five days")),
    Golden(TREATY, "When was the treaty signed?", ("9 June 1815",)),
    Golden(PROBE, "What is the radar instrument designed to measure on Europa?", ("the thickness of the ice",)),
    Golden(
        WHEAT,
        "Why did the price of wheat rise in 1846?",
        ("a disease destroyed much of the potato harvest", "because a disease destroyed much of the potato harvest"),
    ),
    Golden(TOWER, "Who was the architect of the west tower?", ("Brother Anselm of Tours",)),
    Golden(TOWER, "How tall is the west tower?", ("98 metres", "98 metres tall")),
    Golden(SCHOOL, "Which three languages do the students learn?", ("French, German and Mandarin Chinese",)),
    Golden(NIGHT_TRAIN, "When does the night train arrive in Rome?", ("9:15 the next morning", "9:15")),
    Golden(PYTHON, "Where does the name Python come from?", ("the British comedy group Monty Python", "Monty Python")),
    Golden(PYTHON, "Who created Python?", ("Guido van Rossum",)),
    Golden(
        BOILING,
        "Why does water boil at a lower temperature on Mount Everest?",
        ("the air pressure there is much lower", "because the air pressure there is much lower"),
    ),
    Golden(
        HOSPITAL,
        "Why did Queen Eleanor found the hospital of Saint Luke?",
        ("to care for pilgrims who fell ill on the road to the coast",),
    ),
    Golden(TERRACES, "Who built the terraces?", ("the Ifugao people",)),
    Golden(NOVEL, "Which prize did the novel win in 2004?", ("the Costa Book Award",)),
    Golden(NOVEL, "Who wrote The Silent Harbour?", ("Ines Calder",)),
]
UNANSWERABLE = [
    Unanswerable(MUSEUM, "How much does a ticket to the museum cost?"),
    Unanswerable(BEES, "How many eggs does the queen lay in a day?"),
    Unanswerable(SEVERN, "Who was the engineer of the bridge?"),
    Unanswerable(RECIPE, "Who invented this recipe?"),
    Unanswerable(KILIMANJARO, "What is the population of Paris?"),
]
# The bundled model's span probability of each golden answer and no-answer probability of each unanswerable
# question (Reader.predict, one window per question, one thread): `python packaging/golden_references.py`.
# What the bundled model answers where it misses (release 3, measured as REFERENCES): a cut short of the
# accepted answer. Held here so that a change to it is seen, and so that no other miss passes.
KNOWN_MISSES = {"Why does water boil at a lower temperature on Mount Everest?": "because the air pressure"}
REFERENCES = {
    "Who designed the Harbour Bridge?": 0.836,
    "When was the bridge opened?": 0.808,
    "What does the plant release as a by-product?": 0.872,
    "How many phases does the incident response life cycle have?": 0.958,
    "Who designed the lighthouse?": 0.909,
    "Who was the first keeper?": 0.921,
    "What does the caf\u00e9 serve?": 0.807,
    "Who led the British party?": 0.862,
    "When did the expedition reach the pole?": 0.492,
    "What disease does a lack of insulin cause?": 0.885,
    "Which company completed the Kessel Canal?": 0.688,
    "Why was the Kessel Canal built?": 0.205,
    "Where did Maria Okonkwo study?": 0.500,
    "How old was Maria Okonkwo at her first public concert?": 0.879,
    "When did the city council approve the plans for the library?": 0.798,
    "How many books does the library hold?": 0.764,
    "Why do large crystals grow in granite?": 0.100,
    "What kind of rock is granite?": 0.824,
    "Who led the telegraph cable project?": 0.776,
    "How long did the cable work before it failed?": 0.833,
    "How far has the Orvik Glacier retreated?": 0.904,
    "What do the scientists blame the retreat on?": 0.699,
    "Who scored three goals in the final?": 0.797,
    "Where was the 1966 final played?": 0.860,
    "At what temperature is the loaf baked?": 0.705,
    "How long is the dough left in a warm place?": 0.729,
    "Who founded the company?": 0.289,
    "Which city did the company move its headquarters to in 2011?": 0.923,
    "Who showed that citrus fruits could cure scurvy?": 0.776,
    "How many photographs does the battery last for?": 0.514,
    "What sensor does the Lumen X2 have?": 0.273,
    "Where does the Tamsa join the Danube?": 0.723,
    "How long is the river Tamsa?": 0.817,
    "Who painted The Blue Orchard?": 0.778,
    "Where does The Blue Orchard hang now?": 0.278,
    "How long does the male keep the egg warm?": 0.667,
    "When was the treaty signed?": 0.824,
    "What is the radar instrument designed to measure on Europa?": 0.344,
    "Why did the price of wheat rise in 1846?": 0.667,
    "Who was the architect of the west tower?": 0.266,
    "How tall is the west tower?": 0.655,
    "Which three languages do the students learn?": 0.838,
    "When does the night train arrive in Rome?": 0.390,
    "Where does the name Python come from?": 0.207,
    "Who created Python?": 0.904,
    "Why does water boil at a lower temperature on Mount Everest?": 0.249,
    "Why did Queen Eleanor found the hospital of Saint Luke?": 0.567,
    "Who built the terraces?": 0.797,
    "Which prize did the novel win in 2004?": 0.481,
    "Who wrote The Silent Harbour?": 0.923,
    "How much does a ticket to the museum cost?": 0.999,
    "How many eggs does the queen lay in a day?": 0.999,
    "Who was the engineer of the bridge?": 0.993,
    "Who invented this recipe?": 0.898,
    "What is the population of Paris?": 1.000,
}
# Any decent SQuAD reader gets these easy questions right (the bundled model gets 49 of 50); the floor leaves
# room for a good model that cuts a few answers differently. 5 % of one FFN matrix sign-flipped gets 45.
EXACT_FLOOR = 43
# The app's calibrated threshold must answer (rightly) nearly all of them and refuse the unanswerable ones.
ANSWERED_FLOOR = 45


@pytest.fixture(scope="module")
def reader() -> Reader:
    return build_reader(MODEL, config.Settings(threads=1))


@pytest.fixture(scope="module")
def predictions(reader: Reader) -> dict[str, Prediction]:
    """The model's best span for every golden and unanswerable question, by question."""
    asked = [(g.question, g.context) for g in GOLDEN] + [(u.question, u.context) for u in UNANSWERABLE]
    assert len({question for question, _ in asked}) == len(asked), "questions must be distinct"
    return {question: reader.predict(question, context) for question, context in asked}


def test_the_model_file_matches_its_manifest() -> None:
    model = ModelFolder.open(MODEL)  # raises when the sha256 differs
    assert model.model_file.stat().st_size <= 30 * 1024 * 1024
    assert 0.0 < model.no_answer_threshold < 1.0


def test_the_manifest_figures_agree_with_the_file_and_with_each_other() -> None:
    manifest = json.loads((MODEL / "manifest.json").read_text())
    model_bytes = (MODEL / "model.onnx").read_bytes()
    assert manifest["size_bytes"] == len(model_bytes)
    assert manifest["sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert manifest["training"]["data"]
    scores = manifest["scores"]
    assert scores["squad_v1.1_dev_int8"]["questions"] == 10570  # the whole SQuAD v1.1 dev set
    for name, figures in scores.items():
        assert figures["questions"] > 0, name
        if "exact_match" in figures:
            # An exact match is also an F1 of 1 (and a refusal scores the same on both): F1 >= EM.
            assert 0 <= figures["exact_match"] <= figures["f1"] <= 100, name
        if "ms_p50" in figures:
            assert 0 < figures["ms_p50"] <= figures["ms_p90"], name
    v2 = scores.get("squad_v2.0_dev_reconstructed_int8")
    if v2 is not None:  # reported at the threshold the app uses
        assert v2["threshold"] == manifest["no_answer_threshold"]


def test_enough_golden_answers_are_exact(predictions: dict[str, Prediction]) -> None:
    wrong = {g.question: predictions[g.question].text for g in GOLDEN if not _exact(predictions[g.question], g)}
    assert len(GOLDEN) - len(wrong) >= EXACT_FLOOR, wrong


@only_the_reference
@pytest.mark.parametrize("golden", GOLDEN, ids=[g.question for g in GOLDEN])
def test_golden_answer_and_its_probability(predictions: dict[str, Prediction], golden: Golden) -> None:
    prediction = predictions[golden.question]
    if golden.question in KNOWN_MISSES:
        assert prediction.text == KNOWN_MISSES[golden.question]
    else:
        assert _exact(prediction, golden), prediction.text
    assert prediction.text in golden.context
    reference = REFERENCES[golden.question]
    assert prediction.probability == pytest.approx(reference, abs=PROBABILITY_TOLERANCE)


@only_the_reference
@pytest.mark.parametrize("unanswerable", UNANSWERABLE, ids=[u.question for u in UNANSWERABLE])
def test_unanswerable_question_and_its_no_answer_probability(
    predictions: dict[str, Prediction], unanswerable: Unanswerable
) -> None:
    prediction = predictions[unanswerable.question]
    reference = REFERENCES[unanswerable.question]
    assert prediction.null_probability == pytest.approx(reference, abs=NULL_PROBABILITY_TOLERANCE)
    # The paragraph-level threshold (a span probability) refuses it.
    assert prediction.probability < ModelFolder.open(MODEL).no_answer_threshold


@only_the_reference
def test_the_mean_probabilities_match_the_reference(predictions: dict[str, Prediction]) -> None:
    """A head that scales every logit keeps every answer and moves each probability a little, all one way."""
    spans = mean(predictions[g.question].probability for g in GOLDEN)
    assert spans == pytest.approx(mean(REFERENCES[g.question] for g in GOLDEN), abs=MEAN_TOLERANCE)
    nulls = mean(predictions[u.question].null_probability for u in UNANSWERABLE)
    references = [REFERENCES[u.question] for u in UNANSWERABLE]
    assert nulls == pytest.approx(mean(references), abs=MEAN_TOLERANCE)


@only_the_reference
def test_the_paragraph_threshold_keeps_every_right_answer(predictions: dict[str, Prediction]) -> None:
    """The manifest's no_answer_threshold is a span probability chosen on held-out training questions
    (half of them asked of a paragraph without their answer). Release 2 puts every unanswerable question
    here far below it (tested above) and keeps all 50 right answers; release 1's threshold, chosen on
    SQuAD 2.0 dev, refused 21 of them. The app uses it only for an uncalibrated model."""
    threshold = ModelFolder.open(MODEL).no_answer_threshold
    refused = {g.question: round(predictions[g.question].probability, 3) for g in GOLDEN}
    refused = {question: p for question, p in refused.items() if p < threshold}
    assert not refused, (threshold, refused)


def test_the_app_answers_golden_questions_and_refuses_unanswerable_ones(tmp_path) -> None:
    """Each context as its own document, asked through the engine at the threshold the app uses (the
    manifest's calibration.threshold for a calibrated model, its no-answer threshold otherwise)."""
    engine = Engine(None, MODEL, config.Settings(threads=1))
    try:
        documents: dict[str, int] = {}
        for number, context in enumerate(dict.fromkeys(c.context for c in [*GOLDEN, *UNANSWERABLE])):
            path = tmp_path / f"context{number}.txt"
            path.write_text(context + "\n", encoding="utf-8")
            documents[context] = engine.index(path).id
        missed = {}
        for golden in GOLDEN:
            result = engine.ask(golden.question, [documents[golden.context]])
            best = (result.answers or result.guesses)[0]
            if not (result.found and squad.score(best.text, golden.answers)[0]):
                missed[golden.question] = (best.text, round(best.score, 3))
        answered = {}
        for unanswerable in UNANSWERABLE:
            result = engine.ask(unanswerable.question, [documents[unanswerable.context]])
            if result.found:
                answered[unanswerable.question] = (result.answers[0].text, round(result.answers[0].score, 3))
        threshold = engine.threshold
    finally:
        engine.close()
    assert len(GOLDEN) - len(missed) >= ANSWERED_FLOOR, (threshold, missed)
    assert not answered, (threshold, answered)
    if IS_REFERENCE:
        assert {question: text for question, (text, _) in missed.items()} == KNOWN_MISSES, (threshold, missed)


def test_the_sample_document_answers_its_self_test_questions(tmp_path) -> None:
    checks = json.loads((config.resources_dir() / "sample" / "selftest.json").read_text())
    engine = Engine(tmp_path / "library.sqlite3", MODEL, config.Settings(threads=1))
    record = engine.index(config.resources_dir() / "sample" / checks["document"])
    for check in checks["questions"]:
        best = engine.ask(check["question"], [record.id]).answers[0]
        assert check["expect"].lower() in best.text.lower()
        assert best.page_number == 1
    engine.close()


def test_the_welcome_guides_own_example_question_is_answered(tmp_path) -> None:
    import re

    guide = config.resources_dir() / "sample" / "welcome.md"
    example = re.search(r'a\s+question\s+such\s+as\s+"([^"]+)"', guide.read_text("utf-8"))
    assert example is not None, "the guide no longer suggests a question"
    question = " ".join(example.group(1).split())
    engine = Engine(tmp_path / "library.sqlite3", MODEL, config.Settings(threads=1))
    try:
        record = engine.index(guide)
        result = engine.ask(question, [record.id])
    finally:
        engine.close()
    assert result.found, f"{question!r}: {[(a.text, round(a.score, 2)) for a in result.guesses]}"


def _exact(prediction: Prediction, golden: Golden) -> bool:
    return squad.score(prediction.text, golden.answers)[0] == 1.0


def test_questions_asked_together_get_exactly_the_answers_they_get_alone(tmp_path) -> None:
    """The evaluation asks an article's questions in one call; the app asks one at a time. Both must show
    the same answers with the same scores, or the evaluation measures something the app never does (an int8
    graph's activations are quantised per batch, so windows of different questions must not share one)."""
    engine = Engine(None, MODEL, config.Settings(threads=1))
    try:
        contexts = list(dict.fromkeys(g.context for g in GOLDEN))[:4]
        ids = []
        for number, context in enumerate(contexts):
            path = tmp_path / f"context{number}.txt"
            path.write_text(context + "\n", encoding="utf-8")
            ids.append(engine.index(path).id)
        questions = [g.question for g in GOLDEN if g.context in contexts]
        together = engine.ask_many(questions, ids)
        alone = [engine.ask(question, ids) for question in questions]
    finally:
        engine.close()
    assert len(questions) >= 4
    for asked_together, asked_alone in zip(together, alone):
        listed = [(a.text, a.score, a.support) for a in [*asked_together.answers, *asked_together.guesses]]
        assert listed == [(a.text, a.score, a.support) for a in [*asked_alone.answers, *asked_alone.guesses]]


@pytest.mark.parametrize(("lanes", "together"), [(1, True), (2, False)])
def test_stopping_early_shows_the_first_answer_and_call_of_reading_every_passage(tmp_path, lanes, together) -> None:
    """The engine leaves unread the passages whose bound is below the best candidate read (engine
    `_read_best_first`, in rounds of 1, 2, 4, ... passages); with each passage's windows batched on their own,
    what it reads is read exactly as when every passage is, so the first answer, its support and the "not
    found" call are the same: for questions asked together on one lane, and asked alone on two lanes."""
    engine = Engine(None, MODEL, config.Settings(threads=lanes, lanes=lanes))
    try:
        path = tmp_path / "golden.txt"
        path.write_text("\n\n".join(dict.fromkeys(g.context for g in GOLDEN)) + "\n", encoding="utf-8")
        record = engine.index(path)
        assert engine.reader_lanes() == lanes
        questions = [g.question for g in GOLDEN[:: 3 if together else 12]]
        asks = [questions] if together else [[question] for question in questions]
        early = [c for asked in asks for c in engine.candidates(asked, [record.id])]
        every = [c for asked in asks for c in engine.candidates(asked, [record.id], exhaustive=True)]
        shown = [[engine.answer_sets([c], [record.id])[0] for c in gathered] for gathered in (early, every)]
    finally:
        engine.close()
    read = [sum(len({s.context_index for s in c.spans}) for c in gathered) for gathered in (early, every)]
    assert record.passage_count >= 5 and read[0] < read[1]
    for stopped, complete in zip(*shown):
        first, alone = [*stopped.answers, *stopped.guesses][0], [*complete.answers, *complete.guesses][0]
        assert (first.text, first.char_start, first.support, stopped.found) == (
            alone.text,
            alone.char_start,
            alone.support,
            complete.found,
        )


def test_the_lanes_give_the_logits_of_the_session_of_every_thread_bit_for_bit() -> None:
    """The int8 graph's logits do not depend on the threads that compute them, so a batch read side by side
    on the one-thread lanes reads as alone on the session of every thread (`reader.session.OnnxReader`)."""
    reader = build_reader(MODEL, config.Settings(threads=2, lanes=2))
    batches = []
    for golden in GOLDEN[:6]:
        request = ReadRequest(reader.maker.question_ids(golden.question), reader.maker.tokenize([golden.context]))
        batches.extend(
            reader.maker.pad([window]) for window in reader.maker.windows(request.question_ids, request.contexts)
        )
    side_by_side = reader.session.map(batches)
    for batch, (start, end) in zip(batches, side_by_side, strict=True):
        alone_start, alone_end = reader.session(batch)
        assert np.array_equal(start, alone_start) and np.array_equal(end, alone_end)
