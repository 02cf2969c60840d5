"""`xinfang worker`: runs the scheduled jobs (server/jobs/schedule.py) until stopped; any number may run.

On PostgreSQL it is a procrastinate worker (server/jobs/queue.py): each job runs once per tick across
all workers. procrastinate needs PostgreSQL, so on SQLite (the embedded default) it runs the jobs in
its own process (server/jobs/scheduler.py) and says so.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

from sqlalchemy import make_url

from xinfang.server.jobs.schedule import JobSettings, active_jobs

__all__ = ["WorkerNotReady", "run_worker"]


class WorkerNotReady(Exception):
    """The database cannot run the jobs yet (unreachable, or not upgraded)."""


def run_worker(url: str, settings: JobSettings, *, say: Callable[[str], None] = print) -> None:
    """Run the scheduled jobs on the database at `url` until SIGTERM or SIGINT (a run under way finishes)."""
    from xinfang.server.cases.sweep import default_worker
    from xinfang.server.jobs import queue
    from xinfang.server.jobs.scheduler import JobLoop, describe
    from xinfang.server.store import db
    schedule = active_jobs(settings)
    engine = db.make_engine(url)
    try:
        logging.getLogger("alembic").setLevel(logging.WARNING)  # readiness asks alembic the revision
        problems = db.readiness(engine)
        if problems:
            raise WorkerNotReady("; ".join(problems))
        name = default_worker("worker")
        if queue.supported(url):
            say(f"{name}: the job queue on PostgreSQL (procrastinate); scheduled: {describe(schedule)}")
            logging.getLogger("procrastinate").setLevel(logging.WARNING)  # says each run's start and end
            queue.job_queue_app(url, schedule, lambda: engine, name).run_worker()
        else:
            backend = make_url(url).get_backend_name()
            say(f"{name}: {backend} has no job queue (procrastinate needs PostgreSQL), so the scheduled jobs run "
                f"in this process, each worker on its own; scheduled: {describe(schedule)}")
            loop = JobLoop(lambda: engine, schedule, worker=name)
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: loop.stop(timeout=0))
            loop.run_forever()
    finally:
        engine.dispose()

