"""CSV files and SVG charts: what the downloads and pages are made of."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ElementTree
from datetime import date

from intake.reports.charts import nice_maximum, render_svg
from intake.reports.csv import table_to_csv, tables_to_csv
from intake.reports.periods import parse_period
from intake.reports.tables import Chart, Column, ReportTable

TABLE = ReportTable(
    view="outcomes",
    title="Outcomes",
    period=parse_period("2026-Q3"),
    columns=(
        Column("outcome", "Outcome"),
        Column("closed", "Closed", "count"),
        Column("share", "Share", "share"),
        Column("day", "Day", "date"),
    ),
    rows=(("upheld", 3, 1 / 3, date(2026, 7, 1)), ('=HYPERLINK("x")', 1, None, None)),
)


def test_csv_has_a_header_of_labels_and_raw_values() -> None:
    rows = list(csv.reader(io.StringIO(table_to_csv(TABLE))))
    assert rows[0] == ["Outcome", "Closed", "Share", "Day"]
    assert rows[1] == ["upheld", "3", "0.3333", "2026-07-01"]


def test_csv_never_hands_a_spreadsheet_a_formula() -> None:
    rows = list(csv.reader(io.StringIO(table_to_csv(TABLE))))
    assert rows[2][0] == '\'=HYPERLINK("x")'
    assert rows[2][2] == ""


def test_several_tables_in_one_csv_each_have_a_title_row() -> None:
    text = tables_to_csv([TABLE, TABLE])
    assert text.count("Outcomes — 2026-Q3") == 2


def test_charts_are_well_formed_svg_with_a_title_and_no_style_attributes() -> None:
    chart = Chart(
        style="stacked",
        labels=("Jul", "Aug"),
        series=(("complaint", (3.0, 1.0)), ("enquiry", (2.0, 0.0))),
        title="Cases <by> type",
    )
    svg = render_svg(chart, chart_id="c1")
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg") and root.get("role") == "img"
    assert "Cases &lt;by&gt; type" in svg
    assert "style=" not in svg  # the pages' Content Security Policy forbids inline styles
    assert len([e for e in root.iter() if e.tag.endswith("rect") and e.get("class") == "chart__bar"]) == 3


def test_an_empty_chart_says_so() -> None:
    svg = render_svg(Chart(style="bar", labels=("a",), series=(("n", (0.0,)),), title="T"), chart_id="c2")
    assert "Nothing to show" in svg


def test_axis_tops_are_round_numbers() -> None:
    assert [nice_maximum(v) for v in (0, 3, 7, 11, 230, 0.4)] == [1.0, 4, 8, 20, 400, 0.4]
    assert [nice_maximum(v, whole_numbers=True) for v in (0, 3, 5, 11, 230)] == [4, 4, 8, 20, 400]
