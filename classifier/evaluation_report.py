"""The readable form of an evaluation report (what `intake evaluate` prints)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from classifier.evaluation_metrics import most_confused

TARGETS = {
    "type_macro_f1": 0.90,
    "complaint_f1": 0.93,
    "category_micro_f1": 0.80,
    "queue_accuracy": 0.92,
}


def _mark(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "[green]✓[/green]" if value >= target else "[red]✗ below target[/red]"


def print_report(report: dict[str, Any], console: Console, *, title: str = "Evaluation") -> None:
    summary = Table(title=f"{title} — {report['n']} items", show_header=True)
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_column("target", justify="right")
    summary.add_column("")
    for key in ("type_accuracy", "type_macro_f1", "complaint_f1", "category_micro_f1", "category_macro_f1",
                "queue_accuracy", "automation_rate", "routed_queue_accuracy"):
        target = TARGETS.get(key)
        summary.add_row(key, f"{report[key]:.3f}", f"{target:.2f}" if target else "", _mark(report[key], target))
    urgent = report["flag_recall"].get("urgent_safety", 1.0)
    summary.add_row("urgent_safety recall", f"{urgent:.3f}", "1.00", _mark(urgent, 1.0))
    designated = report["flag_f1"].get("designated_person", 1.0)
    summary.add_row("designated_person F1", f"{designated:.3f}", "0.97", _mark(designated, 0.97))
    if report.get("items_per_second"):
        summary.add_row("items per second", f"{report['items_per_second']:.0f}", "", "")
    console.print(summary)

    for name, rows in (("type", report["per_type"]), ("category", report["per_category"])):
        table = Table(title=f"per {name}")
        for column in (name, "precision", "recall", "f1", "support"):
            table.add_column(column, justify="left" if column == name else "right")
        for label, values in rows.items():
            table.add_row(label, f"{values['precision']:.3f}", f"{values['recall']:.3f}", f"{values['f1']:.3f}",
                          str(values["support"]))
        console.print(table)

    flags = Table(title="flags")
    for column in ("flag", "f1", "recall"):
        flags.add_column(column, justify="left" if column == "flag" else "right")
    for flag, value in report["flag_f1"].items():
        flags.add_row(flag, f"{value:.3f}", f"{report['flag_recall'][flag]:.3f}")
    console.print(flags)

    confused = most_confused(report)
    if confused:
        console.print("most confused types (true → predicted): " + ", ".join(
            f"{truth} → {predicted} ×{count}" for truth, predicted, count in confused))
