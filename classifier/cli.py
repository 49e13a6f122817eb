"""The classifier's commands (`train`, `evaluate`, `classify`), added to the lead's Typer app."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from classifier.config import Clock
from classifier.data import LabelledExample, load_examples, seed_files, split_examples
from classifier.errors import ClassifierError
from classifier.evaluation_metrics import REPORT_KEYS
from classifier.evaluation_report import print_report

ExtraExamples = Callable[[], list[LabelledExample]]
# Decides whether a freshly trained (unpromoted) version replaces the current one, and promotes it if so:
# (version, model dir, held-out examples) -> an object with `promote: bool` and `lines() -> list[str]`.
PromotionGate = Callable[[str, Path | None, list[LabelledExample]], Any]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )


def _fail(console: Console, message: str, code: int = 2) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def register(
    app: typer.Typer,
    *,
    clock: Clock,
    extra_training_examples: ExtraExamples | None = None,
    promotion_gate: PromotionGate | None = None,
) -> None:
    """Add `train`, `evaluate` and `classify` to `app`. `clock` dates a trained version (the caller's:
    the classifier reads no clock of its own)."""
    console = Console(stderr=True)

    @app.command("train")
    def train(
        data: Annotated[list[Path] | None, typer.Option(help="JSONL file(s) of labelled examples (repeatable).")] = None,
        out: Annotated[Path | None, typer.Option(help="Model directory (default: INTAKE_MODEL_DIR or ./var/models).")] = None,
        split: Annotated[str, typer.Option(help="Which examples to train on: train, all, or auto (train split "
                                                "of the seed corpus; all of --data files).")] = "auto",
        promote: Annotated[bool, typer.Option(help="Make the new version current.")] = True,
        corrections: Annotated[bool, typer.Option(help="Add staff corrections from the database.")] = True,
    ) -> None:
        """Train and save a new model version (seed TRAIN split + staff corrections by default)."""
        from classifier.training import train_model

        files = list(data) if data else seed_files()
        if not files:
            _fail(console, "no training data: pass --data FILE or add data/seed/*.jsonl")
        try:
            examples = load_examples(files)
        except ClassifierError as error:
            _fail(console, str(error))
        if split not in {"auto", "train", "all"}:
            _fail(console, f"--split must be auto, train or all, not {split!r}")
        held_out: list[LabelledExample] = []
        if split == "train" or (split == "auto" and not data):
            examples, held_out = split_examples(examples)
        extra: list[LabelledExample] = []
        if corrections and extra_training_examples is not None:
            extra = list(extra_training_examples())
        console.print(f"training on {len(examples)} examples"
                      + (f" + {len(extra)} staff corrections" if extra else "")
                      + (f"; {len(held_out)} held out for evaluation" if held_out else ""))
        with _progress(console) as progress:
            tasks: dict[str, TaskID] = {}

            def report(what: str, done: int, total: int) -> None:
                if what not in tasks:
                    tasks[what] = progress.add_task(what, total=total)
                progress.update(tasks[what], completed=done, total=total)

            try:
                result = train_model([*examples, *extra], out_dir=out, evaluation_examples=held_out,
                                     promote=promote and promotion_gate is None, progress=report,
                                     clock=clock)
            except (ClassifierError, ValueError) as error:
                _fail(console, str(error))
        metadata = result.metadata
        promoted = promote
        if promote and promotion_gate is not None and result.version is not None:
            decision = promotion_gate(result.version, out, held_out)
            promoted = bool(decision.promote)
            for line in decision.lines():
                console.print(line, highlight=False)
        console.print(f"saved model version [bold]{result.version}[/bold]"
                      + (" (current)" if promoted else " (not promoted)"))
        choice = metadata["review_threshold_choice"]
        console.print(
            f"review threshold {metadata['review_threshold']:.2f}: cross-validated routed accuracy "
            f"{choice['cv_routed_queue_accuracy']:.3f}, automation {choice['cv_automation_rate']:.3f}"
            + ("" if choice["met"] else " [red](target not met)[/red]")
            + (f"; at most {choice['cv_routed_queue_accuracy_ceiling']:.3f} at any threshold "
               f"({choice['cv_unavoidable_errors']} items routed whatever the confidence are in the wrong queue)"
               if "cv_routed_queue_accuracy_ceiling" in choice else "")
        )
        print_report(metadata["reports"]["cross_validated_train"], console, title="Cross-validated on TRAIN")
        if "held_out" in metadata["reports"]:
            print_report(metadata["reports"]["held_out"], console, title="Held-out TEST split")

    @app.command("evaluate")
    def evaluate(
        data: Annotated[list[Path], typer.Option(help="JSONL file(s) in the data format (repeatable).")],
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
        model_dir: Annotated[Path | None, typer.Option(help="Model directory (default: INTAKE_MODEL_DIR).")] = None,
        version: Annotated[str | None, typer.Option(help="Model version (default: the current one).")] = None,
        robustness: Annotated[bool, typer.Option(
            "--robustness", help="Also score the data rewritten with typos, lower case, no punctuation, "
            "text-speak, a signature and a quoted thread.")] = False,
    ) -> None:
        """Classify every item in the file(s) and report how right the classifier is."""
        from classifier.classifier import Classifier
        from classifier.evaluation_run import evaluate_classifier

        try:
            examples = load_examples(data)
            classifier = Classifier.load(model_dir, version)
        except ClassifierError as error:
            _fail(console, str(error))
        if not examples:
            _fail(console, "no examples in the data file(s)")
        with _progress(console) as progress:
            task = progress.add_task(f"classifying with {classifier.version}", total=len(examples))
            report = evaluate_classifier(classifier, examples, on_batch=lambda n: progress.advance(task, n))
        print_report(report, Console(), title=f"Evaluation of {classifier.version}")
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps({key: report[key] for key in REPORT_KEYS}, indent=2), encoding="utf-8")
            console.print(f"wrote {json_out}")
        if robustness:
            from classifier.robustness import format_report, robustness_report

            console.print(format_report(robustness_report(classifier, examples)), markup=False)

    @app.command("classify")
    def classify_text(
        text: Annotated[str, typer.Argument(help="The message text, or - to read it from standard input.")],
        channel: Annotated[str, typer.Option(help="email, sms, web_form or call_transcript.")] = "email",
        subject: Annotated[str | None, typer.Option()] = None,
        sender: Annotated[str | None, typer.Option()] = None,
        sender_name: Annotated[str | None, typer.Option()] = None,
        model_dir: Annotated[Path | None, typer.Option(help="Model directory (default: INTAKE_MODEL_DIR).")] = None,
    ) -> None:
        """Classify one message and print the result as JSON."""
        from classifier.classifier import Classifier

        if text == "-":
            text = sys.stdin.read()
        try:
            result = Classifier.load(model_dir).classify(
                text, channel=channel, subject=subject, sender=sender, sender_name=sender_name
            )
        except ClassifierError as error:
            _fail(console, str(error))
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
