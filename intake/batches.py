"""Batches for rq workers: a job for one item takes the next ready jobs of its queue along.

rq hands a worker one job at a time. Classifying 32 items with one `classify_many` call and
writing them in one transaction costs a fraction of 32 separate jobs (docs/benchmarks.md), so the
`process_item` job (and `send_acknowledgement`) looks at the next jobs waiting in its own queue —
only looks: the jobs stay queued — and processes their items with its own (`pipeline.process_items`,
`acknowledgements.send_acknowledgements`).

Why nothing is processed twice: a taken-along item is locked with SKIP LOCKED and only while it is
still `received` (an acknowledgement: only while `pending`/`retry`), inside the transaction that
processes it; another worker running that item's own job at the same moment either holds the lock
(then this batch leaves the item alone) or waits for it and then finds the item processed (its job
is a no-op). Only after the batch has committed are the taken-along jobs removed from the queue —
`LREM`, atomic, so a job another worker popped meanwhile is left to that worker, which finds its work
done. A worker killed before that leaves the jobs queued: each runs, finds its item processed, and
does nothing. Nothing is lost either way; tests/intake/test_jobs_rq.py proves it with two workers.

The database queue needs none of this: its worker claims N jobs at once (intake/workers.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from intake.queueing import RqJobQueue
from intake.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_SIZE = 32  # items a worker processes together; the database queue's default claim is the same


def _rq_queue_name(runtime: Runtime, acknowledgements: bool) -> tuple[RqJobQueue, str, str] | None:
    """(the queue, its name, the job-id prefix) when this runs inside an rq worker, else None."""
    jobs = runtime.jobs
    if not isinstance(jobs, RqJobQueue):
        return None
    from rq import get_current_job

    if get_current_job() is None:  # called outside a worker (a script, the sweep): no batch
        return None
    queue = jobs.acknowledgements if acknowledgements else jobs.queue
    kind = "acknowledge-" if acknowledgements else "process-"
    return jobs, queue.name, jobs.job_id_prefix + kind


# How far down its queue a job looks for work to take along: a few batches, so that with several
# workers on one queue a worker whose next jobs are in another's batch finds a batch of its own
# further down (the batch itself stays BATCH_SIZE: the rows decide which are free to take).
LOOK_AHEAD = 4 * BATCH_SIZE


def take_along(runtime: Runtime, own_id: int, *, acknowledgements: bool = False, limit: int = LOOK_AHEAD) -> list[int]:
    """The ids (items, or acknowledgements) of up to `limit - 1` jobs waiting next in this job's
    queue, without removing them. Empty outside an rq worker."""
    found = _rq_queue_name(runtime, acknowledgements)
    if found is None or limit <= 1:
        return []
    jobs, name, prefix = found
    queue = jobs.acknowledgements if acknowledgements else jobs.queue
    ids: list[int] = []
    for job_id in queue.get_job_ids(0, limit - 1):
        number = job_id.removeprefix(prefix)
        if number != job_id and number.isdigit() and int(number) != own_id:
            ids.append(int(number))
    return ids


def gather(runtime: Runtime, own_id: int, *, wait: Callable[[float], None] = time.sleep) -> list[int]:
    """`take_along`, and at a steady rate a little more: a job queued less than
    `worker_gather_seconds` ago, with less than a batch waiting behind it, waits until it is that old
    and looks again, so that its batch holds what arrived meanwhile. Outside an rq worker, or with
    the setting 0, it is `take_along` alone."""
    along = take_along(runtime, own_id)
    seconds = runtime.settings.worker_gather_seconds
    if len(along) >= BATCH_SIZE - 1 or seconds <= 0 or not isinstance(runtime.jobs, RqJobQueue):
        return along
    from rq import get_current_job

    job = get_current_job()  # None outside a worker
    queued_at = job.enqueued_at if job is not None else None
    if queued_at is None:
        return along
    # How long it has waited, by the runtime's clock against the one the API stamped it with (the same
    # wall clock on one machine; a skew between machines changes the wait, never beyond the setting).
    waited = (runtime.clock.now() - queued_at).total_seconds()
    remaining = min(seconds, seconds - waited)
    if remaining <= 0:
        return along
    wait(remaining)
    return take_along(runtime, own_id)


def drop_jobs(runtime: Runtime, done: list[int], *, acknowledgements: bool = False) -> int:
    """Remove the still-queued jobs of work a batch has done and committed. Returns how many.

    `LREM` is atomic: a job another worker popped in the meantime is not removed here, and that
    worker finds its item already done. A job removed here is deleted, so the sweep can queue it
    afresh should its work ever need doing again.
    """
    found = _rq_queue_name(runtime, acknowledgements)
    if found is None or not done:
        return 0
    jobs, _name, prefix = found
    from rq.job import Job

    queue = jobs.acknowledgements if acknowledgements else jobs.queue
    with jobs.connection.pipeline() as pipeline:
        for number in done:
            pipeline.lrem(queue.key, 1, f"{prefix}{number}")
        removed = pipeline.execute()
    gone = [f"{prefix}{number}" for number, count in zip(done, removed, strict=True) if count]
    if gone:
        jobs.connection.delete(*[Job.key_for(job_id) for job_id in gone])
    return len(gone)
