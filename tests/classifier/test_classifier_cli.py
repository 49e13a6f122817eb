"""`train`, `evaluate` and `classify` on a Typer app of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from classifier.cli import register
from classifier.data import LabelledExample
from classifier.evaluation_metrics import REPORT_KEYS
from classifier.registry import INFERENCE_FILE, ModelRegistry
from intake.clock import SYSTEM_CLOCK

runner = CliRunner()


def _app(extra: list[LabelledExample] | None = None) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app, clock=SYSTEM_CLOCK, extra_training_examples=(lambda: list(extra)) if extra is not None else None)
    return app


def _write(path: Path, examples: list[LabelledExample]) -> Path:
    lines = [json.dumps({"id": e.id, "channel": e.channel, "sender": e.sender, "sender_name": e.sender_name,
                         "subject": e.subject, "body": e.body, "type": e.type, "categories": list(e.categories),
                         "flags": list(e.flags), "queue": e.queue, "unknown_field": 1}) for e in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_evaluate_prints_a_report_and_writes_exactly_the_agreed_json(
    small_model_dir: Path, seed_split, tmp_path: Path
) -> None:
    data = _write(tmp_path / "test.jsonl", seed_split[1][:60])
    out = tmp_path / "report.json"
    result = runner.invoke(_app(), ["evaluate", "--data", str(data), "--json", str(out),
                                    "--model-dir", str(small_model_dir)])
    assert result.exit_code == 0, result.output
    assert "type_macro_f1" in result.output
    report = json.loads(out.read_text())
    assert tuple(report) == REPORT_KEYS
    assert report["n"] == 60


def test_evaluate_names_the_malformed_line(small_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a", "body": "hi", "type": "enquiry"}\n{"id": "b", "body": \n', encoding="utf-8")
    result = runner.invoke(_app(), ["evaluate", "--data", str(data), "--model-dir", str(small_model_dir)])
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert "Traceback" not in result.output


def test_evaluate_without_a_model_says_what_to_do(tmp_path: Path, seed_split) -> None:
    data = _write(tmp_path / "test.jsonl", seed_split[1][:3])
    result = runner.invoke(_app(), ["evaluate", "--data", str(data), "--model-dir", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "intake train" in result.output


def test_classify_prints_json(small_model_dir: Path) -> None:
    result = runner.invoke(_app(), ["classify", "--channel", "sms", "--model-dir", str(small_model_dir),
                                    "smell of gas in the flat pls help"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["queue"] == "emergency"
    assert "urgent_safety" in data["flags"]


def test_train_saves_a_version_with_staff_corrections(small_training_set, tmp_path: Path) -> None:
    data = _write(tmp_path / "train.jsonl", small_training_set[:120])
    correction = LabelledExample(id="correction-1", body="the caretaker was rude to me again", type="complaint",
                                 categories=("staff_behaviour",), queue="complaints", weight=3.0)
    out = tmp_path / "models"
    result = runner.invoke(_app(extra=[correction]), ["train", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "staff corrections" in result.output
    registry = ModelRegistry(out)
    version = registry.current_version()
    assert version is not None
    assert registry.metadata(version)["training_examples"] == 121
    assert (out / version / INFERENCE_FILE).is_file()  # what classifying loads (no scikit-learn)
