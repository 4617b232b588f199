"""`qa-reader bench --budgets`: every token and each budget of a length-adaptive model, measured in one run."""

import json

import pytest

from qa_reader import bench
from qa_reader.errors import UserError
from tests.conftest import LIFE_CYCLE, VOCABULARY, adaptive_model_dir
from tests.ingest.builders import write_pdf
from tests.support.tiny_model import build_model_folder

ANSWER = "preparation, detection and analysis"


def adaptive_folder(tmp_path):
    return adaptive_model_dir(tmp_path / "adaptive", {"fast": [0.5, 1.0]})


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A shared-data folder with a two-article dev file and a one-page PDF."""
    start = LIFE_CYCLE.index(ANSWER)
    answer = {"text": ANSWER, "answer_start": start}
    articles = [
        {
            "title": f"Article {a}",
            "paragraphs": [
                {
                    "context": LIFE_CYCLE,
                    "qas": [
                        {"id": f"a{a}q{q}", "question": "What are the phases?", "answers": [answer]} for q in range(4)
                    ],
                }
            ],
        }
        for a in range(2)
    ]
    folder = tmp_path / "shared"
    (folder / "squad-v1.1").mkdir(parents=True)
    (folder / "squad-v1.1" / "dev-v1.1.json").write_text(json.dumps({"data": articles}))
    (folder / "pdfs").mkdir()
    for name in ("NIST.SP.800-61r2.pdf", "NIST.SP.800-82r2.pdf"):
        write_pdf(folder / "pdfs" / name, [[(72, 100, LIFE_CYCLE[:80], 11)]])
    monkeypatch.setattr(bench, "shared_data", lambda: folder)
    return folder


def test_the_budget_table_measures_every_token_and_each_budget_in_one_run(tmp_path, shared):
    model = adaptive_folder(tmp_path)
    lines = []
    report = bench.run_budgets(model, question_count=4, articles=1, pdf=None, log=lines.append)
    assert list(report["budgets"]) == ["every token", "fast"]
    full, fast = report["budgets"]["every token"], report["budgets"]["fast"]
    assert full["keep_ratios"] == [1.0, 1.0] and fast["keep_ratios"] == [0.5, 1.0]
    assert full["squad_f1"] == 100.0 and full["document_f1"] == 100.0
    pdfs = ["NIST.SP.800-61r2.pdf", "NIST.SP.800-82r2.pdf"]
    assert full["squad_speedup"] == 1.0 and full["pdf_speedup"] == dict.fromkeys(pdfs, 1.0)
    assert all(row["squad_ms_p50"] > 0 and list(row["pdf_ms_p50"]) == pdfs for row in (full, fast))
    assert all(ms > 0 for row in (full, fast) for ms in row["pdf_ms_p50"].values())
    assert full["document_speedup"] == 1.0 and fast["document_speedup"] > 0
    assert lines[2].startswith("every token") and lines[3].startswith("fast")
    assert list(report["live_ms_p50"]) == pdfs and all(ms > 0 for ms in report["live_ms_p50"].values())
    assert lines[-1].startswith("While typing (the fast budget, the 4 best passages): median ")


def test_with_a_baseline_the_plain_graph_comes_first_and_the_speed_ups_are_against_it(tmp_path, shared):
    def folder(name, budgets, start_weight):
        return build_model_folder(
            tmp_path / name,
            VOCABULARY,
            answer_starts={"preparation": start_weight},
            answer_ends={"analysis": 9.0},
            length_budgets=budgets,
        )

    adaptive = folder("adaptive", {"fast": [0.5, 1.0]}, 9.0)
    plain = folder("plain", None, 9.0)
    lines = []
    report = bench.run_budgets(adaptive, question_count=4, articles=1, pdf=None, log=lines.append, baseline=plain)
    assert list(report["budgets"]) == [bench.PLAIN, "every token", "fast"]
    assert report["reference"] == bench.PLAIN and report["baseline"] == str(plain)
    rows = report["budgets"]
    assert rows[bench.PLAIN]["keep_ratios"] == [] and rows["every token"]["keep_ratios"] == [1.0, 1.0]
    assert rows[bench.PLAIN]["squad_speedup"] == 1.0 and rows[bench.PLAIN]["document_speedup"] == 1.0
    for name in ("every token", "fast"):
        row = rows[name]
        assert row["squad_speedup"] == round(rows[bench.PLAIN]["squad_ms_p50"] / row["squad_ms_p50"], 2)
        for pdf_name, ms in row["pdf_ms_p50"].items():
            assert row["pdf_speedup"][pdf_name] == round(rows[bench.PLAIN]["pdf_ms_p50"][pdf_name] / ms, 2)
    assert lines[0].endswith(f"speed-ups against {plain}'s plain graph")
    assert [line.split()[0] for line in lines[2:5]] == ["plain", "every", "fast"]


def test_the_command_line_benches_another_model_against_the_bundled_plain_graph(tmp_path, shared, capsys):
    from qa_reader import cli, config

    adaptive = adaptive_folder(tmp_path)
    assert (
        cli.main(["--model", str(adaptive), "bench", "--budgets", "--questions", "2", "--articles", "1", "--json"]) == 0
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    bundled = config.models_dir() / config.DEFAULT_MODEL_NAME
    assert report["baseline"] == str(bundled) and list(report["budgets"]) == [bench.PLAIN, "every token", "fast"]
    # The bundled model itself has no budgets to bench; another plain folder is named with --baseline.
    plain = build_model_folder(tmp_path / "plain", VOCABULARY, {"preparation": 9.0}, {"analysis": 9.0})
    argv = ["--model", str(adaptive), "bench", "--budgets", "--questions", "2", "--articles", "1", "--json"]
    assert cli.main([*argv, "--baseline", str(plain)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["baseline"] == str(plain)


def test_the_pareto_plot_is_a_png_and_needs_the_every_token_row(tmp_path):
    plots = pytest.importorskip("qa_reader.training.plots")
    pytest.importorskip("matplotlib")
    row = {"squad_f1": 80.0, "squad_speedup": 1.0, "document_f1": 70.0, "document_speedup": 1.0}
    budgets = {"every token": row, "fast": {**row, "squad_f1": 79.2, "squad_speedup": 2.1, "document_speedup": 2.4}}
    plots.pareto_plot(budgets, tmp_path / "pareto.png", "test")
    assert (tmp_path / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(UserError, match="every token row"):
        plots.pareto_plot({"fast": budgets["fast"]}, tmp_path / "other.png", "test")


def test_a_model_that_reads_every_token_has_no_budget_table(tiny_model_dir, shared):
    with pytest.raises(UserError, match="reads every token"):
        bench.run_budgets(tiny_model_dir, 4, 1, None, None)


def test_the_plain_bench_times_stopping_early_against_reading_every_passage(tiny_model_dir, shared):
    report = bench.run(tiny_model_dir, 2, None, None)
    assert report["pdf_stopping_early_ms_p50"] > 0 and report["pdf_every_passage_ms_p50"] > 0
    ratio = report["pdf_every_passage_ms_p50"] / report["pdf_stopping_early_ms_p50"]
    assert report["pdf_stopping_early_speedup"] == pytest.approx(ratio, abs=0.01)
    read = report["pdf_passages_read_mean"]
    assert 0 < read["stopping_early"] <= read["every_passage"]
