"""CPU of queueing one group's jobs on rq (`RqJobQueue.enqueue_process_items`), the group writer's
last step after its commit: fresh ids, groups of SIZE, thread CPU, against a real Redis.

    PYTHONPATH=$PWD .venv/bin/python bench/rq_enqueue_cpu.py 5 --redis-url redis://127.0.0.1:6379/13

Flushes the Redis database it is given: use a database of your own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.queueing import RqJobQueue  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("size", type=int, help="jobs a group")
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()
    jobs = RqJobQueue(args.redis_url, "rq-enqueue-cpu")
    jobs.connection.flushdb()
    first_warm_id = 10_000_000
    jobs.enqueue_process_items(list(range(first_warm_id, first_warm_id + args.size)))  # script loaded
    cpu, wall = time.thread_time(), time.perf_counter()
    for group in range(args.groups):
        jobs.enqueue_process_items(list(range(group * args.size, (group + 1) * args.size)))
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    assert jobs.queue.count == (args.groups + 1) * args.size, jobs.queue.count
    print(
        f"groups of {args.size}: {cpu / args.groups * 1000:.3f} ms CPU a group, "
        f"{cpu / args.groups / args.size * 1000:.3f} ms a job, {wall / args.groups * 1000:.3f} ms wall a group"
    )
    jobs.connection.flushdb()


if __name__ == "__main__":
    main()
