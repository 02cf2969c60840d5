"""`xinfang worker` on PostgreSQL: the scheduled jobs on procrastinate's job queue, once per tick across workers.

Every worker runs procrastinate's periodic deferrer over the same schedule (server/jobs/schedule.py);
the database keeps one job per job and tick (procrastinate_periodic_defers is unique on them), and a
queueing lock per job keeps at most one run waiting, so a backlog never piles up behind a slow run.
Whichever worker is free takes the job. A worker that dies mid-run stops sending heartbeats; within a
minute another one puts its job back in the queue (recover_stalled_jobs), and the run's transaction
was rolled back with the connection, so running it again is safe.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import procrastinate
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status
from sqlalchemy import Engine, make_url

from xinfang.server.jobs.schedule import JobRun, ScheduledJob

__all__ = ["QUEUE", "STALLED_AFTER", "conninfo", "job_queue_app", "supported"]

QUEUE = "xinfang"
HEARTBEAT = 10.0  # seconds between a worker's heartbeats
STALLED_AFTER = 30.0  # seconds without a heartbeat after which a worker's running jobs are taken back
KEEP_SUCCEEDED_HOURS = 7 * 24  # finished runs kept for reading (failed ones are kept until removed by hand)
log = logging.getLogger(__name__)


def supported(url: str) -> bool:
    """procrastinate needs PostgreSQL (LISTEN/NOTIFY, plpgsql, SKIP LOCKED)."""
    return make_url(url).get_backend_name() == "postgresql"


def conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy URL (`postgresql+psycopg://…` → `postgresql://…`), options kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def job_queue_app(url: str, schedule: list[tuple[ScheduledJob, str]], engine: Callable[[], Engine],
                  worker: str) -> procrastinate.App:
    """A procrastinate app whose periodic tasks are `schedule`, each run with `engine()` as `worker`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)),
                            worker_defaults={"queues": [QUEUE], "name": worker,
                                             "update_heartbeat_interval": HEARTBEAT,
                                             "stalled_worker_timeout": STALLED_AFTER})
    for job, cron in schedule:
        task = app.task(name=job.name, queue=QUEUE, queueing_lock=job.name)(_runner(job, engine, worker))
        app.periodic(cron=cron)(task)
    for name, cron, housekeeping in (("xinfang.recover_stalled_jobs", "* * * * *", _recover_stalled_jobs),
                                     ("xinfang.remove_old_jobs", "30 19 * * *", _remove_old_jobs)):  # 03:30 Beijing
        app.periodic(cron=cron)(app.task(name=name, queue=QUEUE, queueing_lock=name, pass_context=True)(housekeeping))
    return app


def _runner(job: ScheduledJob, engine: Callable[[], Engine], worker: str):
    def run(timestamp: int) -> None:
        result = job.run(JobRun(engine(), dt.datetime.now(dt.UTC), dt.datetime.fromtimestamp(timestamp, dt.UTC),
                                worker))
        log.info("%s: %s", job.name, result)
    run.__name__ = run.__qualname__ = job.name
    return run


async def _recover_stalled_jobs(context, timestamp: int) -> None:
    """Put back in the queue the runs of workers that stopped sending heartbeats; a run whose job already has
    a newer one waiting is marked failed instead (the waiting one does the same work)."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=STALLED_AFTER):
        try:
            await manager.retry_job(job)
            log.warning("%s (job %s) stalled: its worker stopped; queued again", job.task_name, job.id)
        except queue_errors.UniqueViolation:
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.warning("%s (job %s) stalled: its worker stopped; a newer run is waiting", job.task_name, job.id)


async def _remove_old_jobs(context, timestamp: int) -> None:
    """The queue keeps a row per run (a sweep every 5 minutes is 105,000 a year): succeeded ones go after a week."""
    await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_SUCCEEDED_HOURS, queue=QUEUE)
