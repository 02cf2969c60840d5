"""The in-process scheduler: a daemon thread that sweeps escalations every SWEEP_INTERVAL_SECONDS."""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import Engine

from xinfang.server.cases.sweep import SweepResult, default_worker, sweep

__all__ = ["DEFAULT_INTERVAL", "SweepScheduler", "init_app", "scheduler_of"]

DEFAULT_INTERVAL = 300.0
_EXTENSION = "xinfang.scheduler"
log = logging.getLogger(__name__)


class SweepScheduler:
    """Runs sweep() every `interval` seconds until stopped; an error is logged and the next run goes on.

    Several servers may each run one: a step still fires once (server/cases/sweep.py). The first sweep
    comes one interval after start, once `xinfang serve` has upgraded the database.
    """

    def __init__(self, engine: Callable[[], Engine], interval: float, *, worker: str | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"the sweep interval must be positive, not {interval}")
        self.engine = engine  # called at each run: the app's engine is made on first use
        self.interval = interval
        self.worker = worker or default_worker("scheduler")
        self.runs = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SweepScheduler:
        if self.running:
            return self
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="xinfang-sweep", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the thread to stop and wait for it: a sweep under way finishes (or rolls back) first."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_once(self) -> SweepResult | None:
        """One sweep now; None when it failed (logged: a broken run must not end the schedule)."""
        try:
            result = sweep(self.engine(), dt.datetime.now(dt.UTC), worker=self.worker)
        except Exception:
            log.exception("escalation sweep failed; next attempt in %s s", self.interval)
            return None
        finally:
            self.runs += 1
        log.log(logging.INFO if result.fired else logging.DEBUG, "escalation sweep: %s", result)
        return result

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            self.run_once()


def init_app(app: Flask) -> SweepScheduler | None:
    """Start the app's scheduler when SWEEP_INTERVAL_SECONDS > 0 and the app is not under test."""
    interval = float(app.config.get("SWEEP_INTERVAL_SECONDS") or 0)
    if interval <= 0 or app.testing:
        return None
    from xinfang.server.store.db import database_of
    scheduler = SweepScheduler(lambda: database_of(app).engine, interval).start()
    app.extensions[_EXTENSION] = scheduler
    atexit.register(scheduler.stop)
    return scheduler


def scheduler_of(app: Flask) -> SweepScheduler | None:
    return app.extensions.get(_EXTENSION)
