"""The in-process scheduler: a thread that runs the scheduled jobs (server/jobs/schedule.py) at their ticks.

What the embedded default uses (`make run`, `xinfang serve` on SQLite), and what `xinfang worker` falls
back to where the job queue cannot run (procrastinate needs PostgreSQL). Several may run at once: an
escalation step still fires once (server/cases/sweep.py), but a tick is not shared, so each runs every job.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import Engine

from xinfang.server.cases.sweep import default_worker
from xinfang.server.jobs.schedule import JobRun, JobSettings, ScheduledJob, active_jobs, next_tick

__all__ = ["JobLoop", "describe", "init_app", "scheduler_of"]

_EXTENSION = "xinfang.scheduler"
log = logging.getLogger(__name__)


class JobLoop:
    """Runs each (job, cron) of `schedule` at its ticks until stopped; a failed run is logged and the
    schedule goes on. A tick missed while another job ran is run late, once; older ones are skipped."""

    def __init__(self, engine: Callable[[], Engine], schedule: list[tuple[ScheduledJob, str]], *,
                 worker: str | None = None) -> None:
        self.engine = engine  # called at each run: the app's engine is made on first use
        self.schedule = schedule
        self.worker = worker or default_worker("scheduler")
        self.runs = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> JobLoop:
        if not self.running:
            self._stopping.clear()
            self._thread = threading.Thread(target=self.run_forever, name="xinfang-jobs", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the loop to stop and wait for it: a job under way finishes (or rolls back) first."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_forever(self) -> None:
        """The loop, in the calling thread (`xinfang worker` on SQLite) until stop() (a signal handler's)."""
        due = {job.name: next_tick(cron, time.time()) for job, cron in self.schedule}
        while self.schedule and not self._stopping.wait(max(0.0, min(due.values()) - time.time())):
            for job, cron in self.schedule:
                if due[job.name] <= time.time() and not self._stopping.is_set():
                    self.run_once(job, due[job.name])
                    due[job.name] = next_tick(cron, time.time())

    def run_once(self, job: ScheduledJob, tick: float) -> object | None:
        """One run of `job` for `tick` now; None when it failed (logged: a broken run must not end the schedule)."""
        now = dt.datetime.now(dt.UTC)
        try:
            result = job.run(JobRun(self.engine(), now, dt.datetime.fromtimestamp(tick, dt.UTC), self.worker))
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next tick", job.name)
            return None
        finally:
            self.runs += 1
        log.info("%s: %s", job.name, result)
        return result


def describe(schedule: list[tuple[ScheduledJob, str]]) -> str:
    """`escalation_sweep (cron */5 * * * *)`, for the line a process prints about what it schedules."""
    return ", ".join(f"{job.name} (cron {cron})" for job, cron in schedule) or "none"


def init_app(app: Flask) -> JobLoop | None:
    """Start the in-process loop of `app` (the development server's), unless SWEEP_INTERVAL_SECONDS is 0
    and no other job is scheduled (SCHEDULED_REPORTS, default on, off when testing)."""
    schedule = active_jobs(JobSettings(sweep_interval=float(app.config.get("SWEEP_INTERVAL_SECONDS") or 0),
                                       reports=bool(app.config.get("SCHEDULED_REPORTS", not app.testing))))
    if not schedule:
        return None
    from xinfang.server.store.db import database_of
    loop = JobLoop(lambda: database_of(app).engine, schedule).start()
    app.extensions[_EXTENSION] = loop
    atexit.register(loop.stop)
    return loop


def scheduler_of(app: Flask) -> JobLoop | None:
    return app.extensions.get(_EXTENSION)
