"""The scheduled jobs: the one place where work that runs on a schedule (sweeps, reports) is declared.

A job is a `ScheduledJob` in SCHEDULED_JOBS below: a name, a cron schedule and a function of a
`JobRun`. Both runners read this table and nothing else: `xinfang worker` on PostgreSQL defers each
job once per tick across all workers (procrastinate, server/jobs/queue.py), and the in-process loop
(`make run`, SQLite: server/jobs/scheduler.py) runs it in a thread. A job must be safe to run twice for one
tick (a stalled run is retried) and should read `run.now`, not the clock, for the legal day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from croniter import croniter
from sqlalchemy import Engine

__all__ = ["DEFAULT_SWEEP_INTERVAL", "REPORTS_CRON", "JobRun", "JobSettings", "SCHEDULED_JOBS", "ScheduledJob", "active_jobs",
           "every", "next_tick"]

DEFAULT_SWEEP_INTERVAL = 300  # seconds; XINFANG_SWEEP_INTERVAL_SECONDS


@dataclass(frozen=True)
class JobSettings:
    """What the schedules depend on, read from the environment by `xinfang worker` and `xinfang serve`."""

    sweep_interval: float = DEFAULT_SWEEP_INTERVAL
    reports: bool = True  # make the scheduled reports (off in the test apps: SCHEDULED_REPORTS)


@dataclass(frozen=True)
class JobRun:
    """What a job is given: the database, the time it runs at, the tick it runs for, and who runs it."""

    engine: Engine
    now: dt.datetime  # aware (UTC); the legal day is its Asia/Shanghai date
    due_at: dt.datetime  # the cron tick this run is for (aware, UTC): a report's period ends here
    worker: str  # host:pid of the process, recorded as the actor of what the job writes


@dataclass(frozen=True)
class ScheduledJob:
    """One job: `name` is its task name in the queue (never rename one: queued runs carry it), `cron` its
    schedule (5 fields, or 6 with seconds last; in UTC: Beijing is UTC+8) or a function of the settings
    giving one (None: not scheduled), `run` the work (what it returns is logged)."""

    name: str
    cron: str | Callable[[JobSettings], str | None]
    run: Callable[[JobRun], object]
    summary: str

    def cron_for(self, settings: JobSettings) -> str | None:
        cron = self.cron(settings) if callable(self.cron) else self.cron
        if cron is not None and not croniter.is_valid(cron):
            raise ValueError(f"scheduled job {self.name}: {cron!r} is not a cron schedule")
        return cron


def every(seconds: float) -> str | None:
    """A cron schedule firing every `seconds`, aligned on the clock; None for 0 (disabled).

    Ticks that share a wall-clock time across processes are what lets every worker agree on them: an
    interval must divide a minute, an hour or a day. A day fires at 00:00 Beijing time (16:00 UTC),
    when the day's escalation steps fall due.
    """
    if seconds == 0:
        return None
    whole = int(seconds)
    if whole != seconds or whole < 0:
        raise ValueError(f"a schedule interval is a whole number of seconds, not {seconds}")
    if whole < 60 and 60 % whole == 0:
        return "* * * * * *" if whole == 1 else f"* * * * * */{whole}"
    if whole % 60 == 0 and whole < 3600 and 60 % (whole // 60) == 0:
        return "* * * * *" if whole == 60 else f"*/{whole // 60} * * * *"
    if whole % 3600 == 0 and whole < 86400 and 24 % (whole // 3600) == 0:
        return "0 * * * *" if whole == 3600 else f"0 */{whole // 3600} * * *"
    if whole == 86400:
        return "0 16 * * *"
    raise ValueError(f"an interval of {whole} s is not a clock schedule: choose one that divides a minute, "
                     f"an hour or a day (e.g. 60, 300, 900, 3600, 86400)")


def next_tick(cron: str, after: float) -> float:
    """The first tick of `cron` after the POSIX time `after` (UTC, as procrastinate reads cron)."""
    return croniter(cron, after).get_next(float)


def _sweep(run: JobRun) -> object:
    from xinfang.server.cases.sweep import sweep
    return sweep(run.engine, run.now, worker=run.worker)


def _reports(run: JobRun) -> object:
    from sqlalchemy.orm import Session

    from xinfang.server.reports.service import run_due
    from xinfang.server.rulesets.library_store import published_library
    with Session(run.engine) as session:
        library = published_library(session)
    if library is None:
        return "reports: no rule set published"
    return run_due(run.engine, library, run.now, run.worker)


REPORTS_CRON = "0 23 * * *"  # 07:00 Beijing time (UTC+8), the day after a period ends

SCHEDULED_JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob("escalation_sweep", cron=lambda settings: every(settings.sweep_interval), run=_sweep,
                 summary="fire the escalation steps that are due (督办, 升级, 包案), each once"),
    ScheduledJob("scheduled_reports", cron=lambda settings: REPORTS_CRON if settings.reports else None, run=_reports,
                 summary="make each report the rule sets schedule (周调度, 月通报) for its last period, once"),
)


def active_jobs(settings: JobSettings, jobs: tuple[ScheduledJob, ...] = SCHEDULED_JOBS,
                ) -> list[tuple[ScheduledJob, str]]:
    """Each job that is scheduled under `settings`, with its cron schedule."""
    return [(job, cron) for job in jobs if (cron := job.cron_for(settings)) is not None]
