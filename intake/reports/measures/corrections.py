"""Corrections by staff: how often the classifier's labels were kept, removed or added."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from intake.reports import daily_facts
from intake.reports.measures.common import (
    TYPE_COLUMNS,
    UNCLASSIFIED,
    as_number,
    in_words,
    share_of,
)
from intake.reports.periods import Period
from intake.reports.tables import Cell, Chart, Column, ReportTable


def corrections(*, session: Session, period: Period) -> ReportTable:
    """How often staff corrected the classifier, label by label: its real-world accuracy."""
    found = daily_facts.classifier_corrections(session, period)
    labelled: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for group in found.types:
        model = group.model_type or UNCLASSIFIED
        final = group.final_type or UNCLASSIFIED
        labelled[model] += group.items
        if model == final:
            kept[model] += group.items
        else:
            added[final] += group.items
    rows: list[tuple[Cell, ...]] = []
    for item_type in TYPE_COLUMNS:
        if labelled[item_type] or added[item_type]:
            rows.append(
                _agreement_row(
                    "type",
                    item_type,
                    kept[item_type],
                    labelled[item_type] - kept[item_type],
                    added[item_type],
                )
            )
    for label in found.labels:
        if label.kept or label.removed or label.added:
            rows.append(_agreement_row(label.group, label.label, label.kept, label.removed, label.added))
    classified = sum(group.items for group in found.types)
    corrected = sum(group.corrected for group in found.types)
    return ReportTable(
        view="corrections",
        title="Corrections by staff (the classifier's real-world accuracy)",
        period=period,
        columns=(
            Column("group", "Label group"),
            Column("label", "Label"),
            Column("model_labelled", "Given by the classifier", "count"),
            Column("kept", "Kept by staff", "count"),
            Column("removed", "Removed by staff", "count"),
            Column("added", "Added by staff", "count"),
            Column("precision", "Share kept (precision)", "share"),
            Column("recall", "Share found (recall)", "share"),
        ),
        rows=tuple(rows),
        notes=(
            f"{classified} items received in the period were labelled by the classifier and reviewed by "
            f"staff (corrected, or acted on); staff corrected {corrected} of them "
            f"({_percent_words(share_of(corrected, classified))}). Items nobody has reviewed are left out: "
            "a label nobody looked at says nothing about whether it was right.",
            "The classifier's labels are those before the first correction; the staff's are the item's "
            "labels now. Precision: of the labels it gave, the share staff kept. Recall: of the labels "
            "the items have now, the share it had given.",
        ),
        chart=Chart(
            style="bar",
            labels=tuple(in_words(str(r[1])) for r in rows if r[0] == "type"),
            series=(("kept", tuple(100.0 * as_number(r[6]) for r in rows if r[0] == "type")),),
            unit="%",
            title="Type labels kept by staff",
        ),
        totals={
            "classified": classified,
            "corrected": corrected,
            "share_corrected": share_of(corrected, classified),
        },
    )


def _agreement_row(group: str, label: str, kept: int, removed: int, added: int) -> tuple[Cell, ...]:
    given = kept + removed
    return (group, label, given, kept, removed, added, share_of(kept, given), share_of(kept, kept + added))


def _percent_words(share: float | None) -> str:
    return "no items" if share is None else f"{share:.1%}"
