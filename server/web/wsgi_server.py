"""`xinfang serve --workers N`: the app under gunicorn, N processes forked from one that built it, no scheduler.

The app (rule sets loaded and validated, templates) is built once in gunicorn's master and shared by
the forked processes; each drops the master's pooled database connections, if any, and makes its own.
Scheduled work runs in `xinfang worker` processes, never here. gunicorn needs a POSIX system (fork):
on Windows the development server (`xinfang serve` without --workers) is what runs.
"""

from __future__ import annotations

from flask import Flask

__all__ = ["serve_with_gunicorn"]


def serve_with_gunicorn(app: Flask, *, host: str, port: int, workers: int, timeout: int = 30) -> None:
    """Run gunicorn's sync workers over `app` until a signal stops them (SIGTERM: graceful)."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError as err:  # fcntl and fork: not on Windows
        raise RuntimeError(f"gunicorn cannot run here ({err}): use `xinfang serve` without --workers") from None
    from xinfang.server.store.db import database_of

    def post_fork(server, worker) -> None:
        database_of(app).after_fork()

    class Server(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "sync", "timeout": timeout,
                        "post_fork": post_fork, "proc_name": "xinfang"}
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 25.1+: one per user, which two servers share
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    Server().run()
