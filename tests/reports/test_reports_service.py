"""The reports against figures worked out by hand from the fixed data set (tests/reports/dataset.py),
on SQLite and on PostgreSQL.

Working days in 2026-Q3 (England): Monday 31 August is the late summer bank holiday. A day-count
"(a, b]" below means the working days after a up to and including b.
"""

from __future__ import annotations

import pytest

from intake.reports.periods import parse_period
from intake.reports.service import build_report, build_view
from tests.reports.dataset import HOMES, NOW

Q3 = parse_period("2026-Q3")


def view(runtime, name, period=Q3):  # type: ignore[no-untyped-def]
    return build_view(runtime, name, period, now=NOW)


def test_volume_counts_new_cases_by_type_and_channel(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "volume")

    # Cases received 1 July – 30 September in London: C1–C7, C10–C13 are complaints (C8, C9 came in
    # June); S1, S2 service requests; E1, E2 enquiries; K1 a compliment (00:30 on 1 July in London,
    # still 30 June in UTC); G1 a suggestion; U1 unclassified. Not cases: F1 and F2 (follow-ups),
    # STOP (an SMS keyword), Z1 (October), Z2 (23:59 on 30 June in London).
    everything = table.find(bucket="whole period", channel="all channels")
    assert everything == {
        "bucket": "whole period",
        "channel": "all channels",
        "complaint": 11,
        "service_request": 2,
        "enquiry": 2,
        "compliment": 1,
        "suggestion": 1,
        "unclassified": 1,
        "total": 18,
    }
    assert table.find(bucket="whole period", channel="email")["complaint"] == 8  # C1 C4 C5 C6 C7 C11 C12 C13
    assert table.find(bucket="whole period", channel="email")["total"] == 11  # + E1 E2 G1
    assert table.find(bucket="whole period", channel="sms")["total"] == 3  # C2 S1 U1
    assert table.find(bucket="whole period", channel="web_form")["total"] == 3  # C3 S2 K1
    assert table.find(bucket="whole period", channel="call_transcript")["total"] == 1  # C10
    # A quarter is shown week by week; the first week is clipped to 1–5 July: C3, C4, K1 on web
    # form/email on the 1st, C7 on the 2nd, S1 on the 3rd.
    first_week = [r for r in table.records() if r["bucket"] == "w/c 2026-06-29"]
    assert sum(r["total"] for r in first_week) == 5
    assert table.find(bucket="w/c 2026-08-31", channel="email")["complaint"] == 1  # C5, on the bank holiday


def test_a_month_counts_by_the_london_date(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    june = view(report_runtime, "volume", parse_period("2026-06"))
    july = view(report_runtime, "volume", parse_period("2026-07"))

    assert june.totals["compliment"] == 0 and june.totals["enquiry"] == 1  # Z2 at 23:59, not K1
    assert july.totals["compliment"] == 1  # K1 at 00:30 on 1 July
    # July by day: C3 and C4 and K1 on the 1st.
    assert sum(r["total"] for r in july.records() if r["bucket"] == "2026-07-01") == 3


def test_service_areas_count_new_cases_by_queue(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "service_areas")

    assert table.find(queue="complaints")["total"] == 11
    assert table.find(queue="emergency")["service_request"] == 1  # S1
    assert table.find(queue="formal_enquiries")["enquiry"] == 1  # E2
    assert table.find(queue="triage_review")["unclassified"] == 1  # U1


def test_complaint_categories(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "categories")

    # 11 complaints; delay: C1 C2 C4 C7 C11 C12; poor quality: C1 C3; C10 has none.
    assert table.totals["complaints"] == 11
    assert table.find(category="delay") == {
        "category": "delay",
        "complaints": 6,
        "share": pytest.approx(6 / 11),
    }
    assert table.find(category="poor_quality")["complaints"] == 2
    assert table.find(category="cost")["complaints"] == 1  # C7 (C8's cost complaint came in June)
    assert table.find(category="policy")["complaints"] == 1  # C13, corrected in October
    assert table.find(category="(no category)")["complaints"] == 1  # C10
    assert table.find(category="discrimination")["complaints"] == 0


def test_acknowledgement_and_response_times_against_the_policy(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "timeliness")

    # Stage 1 acknowledgements first met in Q3: eleven, all on the day (0 working days) except C6's
    # call-back on 9 July (2) and C10's late one on 20 July (8, after its 15 July deadline). C13's
    # came in October.
    acknowledged = table.find(measure="acknowledge", type="complaint", stage="stage_1")
    assert acknowledged["met"] == 11
    assert acknowledged["median_working_days"] == 0  # 6th of 11
    assert acknowledged["p90_working_days"] == 2  # 10th of 11: [0 ×9, 2, 8]
    assert acknowledged["in_target"] == 10
    assert acknowledged["target"].startswith("5 working days of receipt")

    # Stage 1 responses, from the stage's start to the first response:
    #   C6 (7→14 Jul) 5, C7 (2→9 Jul) 5, C12 (13→21 Jul) 6, C1 (6→17 Jul) 9, C5 (31 Aug, a bank
    #   holiday, so from 1 Sep →15 Sep) 10, C9 (2→16 Jul, from the chaser) 10, C2 (10→27 Jul) 11,
    #   C10 (8→31 Jul) 17, C3 (1→28 Jul) 19, C4 (1 Jul→5 Aug) 25.
    # Reopened C6 and C12 count once, at their first response.
    responded = table.find(measure="respond", type="complaint", stage="stage_1")
    assert responded["met"] == 10
    assert responded["median_working_days"] == 10  # 5th of 10
    assert responded["p90_working_days"] == 19  # 9th of 10
    # Late against the deadline in force: C2 (24 Jul) and C10 (22 Jul). C3 and C4 met their
    # extended dates.
    assert responded["in_target"] == 8
    assert responded["share_in_target"] == pytest.approx(0.8)

    # Stage 2: C7 (20 Jul → 14 Aug) 19 in target; C8 (1 → 31 Jul) 22, two days late.
    stage_2 = table.find(measure="respond", type="complaint", stage="stage_2")
    assert (stage_2["met"], stage_2["median_working_days"], stage_2["p90_working_days"]) == (2, 19, 22)
    assert stage_2["in_target"] == 1
    assert table.find(measure="acknowledge", type="complaint", stage="stage_2")["in_target"] == 2
    assert table.find(measure="make_safe", type="service_request", stage="")["in_target"] == 1  # S1


def test_overdue_now(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "overdue")

    # At 11:00 UTC on Wednesday 14 October 2026:
    #   Z1's acknowledgement, due 8 Oct: 4 working days late.
    #   C11's response, due 28 Sep: 12 working days late; reopened C6's new response, due 17 Aug: 41.
    #   U1's acknowledgement, due 18 Sep: 18.
    # Not overdue: C3's holding reply and the residents' escalation windows (not ours to meet);
    # C3's, C6's and E2's recomputed acknowledge rows (already met); closed cases; Z1's response and
    # C13's, due 15 and 19 October.
    assert table.records() == [
        {
            "queue": "complaints",
            "deadline": "acknowledge",
            "stage": "stage_1",
            "overdue": 1,
            "band_1": 1,
            "band_2": 0,
            "band_3": 0,
            "oldest_due": fixed_date(2026, 10, 8),
        },
        {
            "queue": "complaints",
            "deadline": "respond",
            "stage": "stage_1",
            "overdue": 2,
            "band_1": 0,
            "band_2": 0,
            "band_3": 2,
            "oldest_due": fixed_date(2026, 8, 17),
        },
        {
            "queue": "triage_review",
            "deadline": "acknowledge",
            "stage": "",
            "overdue": 1,
            "band_1": 0,
            "band_2": 0,
            "band_3": 1,
            "oldest_due": fixed_date(2026, 9, 18),
        },
    ]
    assert table.totals["overdue"] == 4


def fixed_date(year: int, month: int, day: int):  # type: ignore[no-untyped-def]
    from datetime import date

    return date(year, month, day)


def test_outcomes_and_remedies(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "outcomes")

    # Closed in Q3: C1 "Upheld" (£50), C9 "Upheld", C12 "upheld" (closed again on 20 Aug after
    # reopening); C2 "Not upheld", C8 "not upheld"; C7 "Partly upheld" (£100); E1 "Answered".
    # C6 was reopened, so it is not closed.
    assert table.find(type="complaint", outcome="upheld") == {
        "type": "complaint",
        "outcome": "upheld",
        "closed": 3,
        "with_remedy": 1,
        "share_with_remedy": pytest.approx(1 / 3),
    }
    assert table.find(type="complaint", outcome="not upheld")["closed"] == 2
    assert table.find(type="complaint", outcome="partly upheld")["with_remedy"] == 1
    assert table.find(type="enquiry", outcome="answered")["closed"] == 1
    assert table.totals["closed"] == 7


def test_corrections_give_the_classifiers_accuracy_by_label(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    table = view(report_runtime, "corrections")

    # 19 items received in Q3 were labelled by the classifier (the 18 cases less U1, plus follow-ups
    # F1 and F2), but only items a person reviewed say anything about its accuracy: the 5 staff
    # corrected (C1, C2, C4 twice, C13, E1) and 3 more staff acted on (assigned, answered, closed)
    # without changing a label. Unreviewed items are no longer counted as "kept by staff".
    assert (table.totals["classified"], table.totals["corrected"]) == (8, 5)
    assert table.find(group="type", label="complaint") == {
        "group": "type",
        "label": "complaint",
        "model_labelled": 6,
        "kept": 5,
        "removed": 1,  # E1
        "added": 2,  # C2, C13
        "precision": pytest.approx(5 / 6),
        "recall": pytest.approx(5 / 7),
    }
    assert table.find(group="type", label="service_request")["precision"] == 0.0  # C2
    # Categories, from the first correction's `before`: C4 was "cost" (then "cost, delay", then
    # "delay"); C1 was "delay" only; C2 had none; E1 was "staff behaviour".
    assert table.find(group="category", label="delay")["added"] == 2  # C2, C4
    assert table.find(group="category", label="cost")["removed"] == 1  # C4
    assert table.find(group="category", label="poor_quality")["added"] == 1  # C1
    assert table.find(group="category", label="policy")["recall"] == 0.0  # C13, missed
    assert table.find(group="flag", label="third_party")["removed"] == 1  # C4
    assert table.find(group="flag", label="ombudsman")["precision"] == 0.0  # E1 (C7 was never reviewed)


def test_ch01_counts_complaints_entering_each_stage_per_thousand_homes(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    tsm = view(report_runtime, "tsm")

    # Stage 1 entered in Q3: C1–C7, C10, C11, C12 at receipt; C9 when the chaser arrived on 2 July;
    # C13 at its receipt on 25 September although staff made it a complaint in October. Reopened C6
    # and C12 count once. C8 entered stage 1 in June.
    stage_1 = tsm.find(measure="CH01 stage 1")
    assert (stage_1["count"], stage_1["base"]) == (12, HOMES)
    assert stage_1["result"] == pytest.approx(12 / 2500 * 1000)  # 4.8
    # Stage 2 entered in Q3: C7 (20 July) and C8 (1 July, escalated from a June complaint).
    assert tsm.find(measure="CH01 stage 2")["count"] == 2
    assert tsm.find(measure="CH01 stage 2")["result"] == pytest.approx(0.8)


def test_ch02_measures_responses_against_the_codes_timescales(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    tsm = view(report_runtime, "tsm")

    # Stage 1 responses in Q3 (10): in time C1, C3 (extension to 29 Jul, within the Code's 10 extra
    # days), C5 (bank holiday), C6, C7, C9 and C12; late C2, C4 (extension beyond the Code's limit)
    # and C10 (late acknowledgement).
    stage_1 = tsm.find(measure="CH02 stage 1")
    assert (stage_1["count"], stage_1["base"], stage_1["result"]) == (7, 10, 70.0)
    # Stage 2: C7 in time (due 17 Aug), C8 late (due 29 Jul, answered 31 Jul).
    stage_2 = tsm.find(measure="CH02 stage 2")
    assert (stage_2["count"], stage_2["base"], stage_2["result"]) == (1, 2, 50.0)


@pytest.mark.parametrize(
    ("day", "stage", "in_time", "responded", "why"),
    [
        (
            "2026-09-15",
            "CH02 stage 1",
            1,
            1,
            "C5: received and acknowledged on the bank holiday; clock from 1 Sep",
        ),
        ("2026-07-28", "CH02 stage 1", 1, 1, "C3: agreed extension to 29 Jul, within the Code's limit"),
        ("2026-08-05", "CH02 stage 1", 0, 1, "C4: extension to 12 Aug capped at the Code's 29 Jul"),
        ("2026-07-31", "CH02 stage 1", 0, 1, "C10: acknowledged late, clock from the 15 Jul it was due"),
        ("2026-07-16", "CH02 stage 1", 1, 1, "C9: clock from the complaint acknowledgement of 2 Jul"),
        ("2026-07-31", "CH02 stage 2", 0, 1, "C8: 20 working days from 1 Jul is 29 Jul"),
        ("2026-08-20", "CH02 stage 1", 0, 0, "C12: a second response after reopening is not counted"),
    ],
)
def test_ch02_edges_one_day_at_a_time(
    report_runtime, fixed_data, day, stage, in_time, responded, why
) -> None:  # type: ignore[no-untyped-def]
    row = view(report_runtime, "tsm", parse_period(f"{day}..{day}")).find(measure=stage)
    assert (row["count"], row["base"]) == (in_time, responded), why


def test_reopening_is_not_a_new_complaint(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    for reopened_on in ("2026-08-03", "2026-08-10"):  # C6, C12
        tsm = view(report_runtime, "tsm", parse_period(f"{reopened_on}..{reopened_on}"))
        assert tsm.find(measure="CH01 stage 1")["count"] == 0


def test_a_corrected_complaint_counts_when_it_arrived(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    september = view(report_runtime, "tsm", parse_period("2026-09"))
    october = view(report_runtime, "tsm", parse_period("2026-10"))

    assert september.find(measure="CH01 stage 1")["count"] == 2  # C11, and C13 (made one on 5 Oct)
    assert october.find(measure="CH01 stage 1")["count"] == 1  # Z1 only


def test_a_financial_year_adds_up_its_quarters(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    year = build_report(report_runtime, parse_period("FY2026-27"), views=["tsm"], now=NOW)[0]
    quarters = [
        build_report(report_runtime, parse_period(f"FY2026-27-Q{n}"), views=["tsm"], now=NOW)[0]
        for n in (1, 2, 3)
    ]
    for measure in ("CH01 stage 1", "CH01 stage 2", "CH02 stage 1", "CH02 stage 2"):
        assert year.find(measure=measure)["count"] == sum(q.find(measure=measure)["count"] for q in quarters)
    # April–June: C8 (9 Jun) at stage 1; C9 was a service request until July.
    assert quarters[0].find(measure="CH01 stage 1")["count"] == 1
    assert year.find(measure="CH01 stage 1")["count"] == 14  # + Q3's 12 + Z1


def test_an_empty_period_reports_zeros_not_errors(report_runtime, fixed_data) -> None:  # type: ignore[no-untyped-def]
    tables = build_report(report_runtime, parse_period("2025-Q1"), now=NOW)

    tsm = next(t for t in tables if t.view == "tsm")
    assert tsm.find(measure="CH01 stage 1")["count"] == 0
    assert tsm.find(measure="CH02 stage 1")["result"] is None  # no responses: no share
    assert next(t for t in tables if t.view == "volume").totals["total"] == 0
