"""Alembic's environment: migrates the connection xinfang.server.store.db.upgrade hands over (or a URL given)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from xinfang.server.store import case_tables as case_models  # noqa: F401  (registers the case tables on Base.metadata)
from xinfang.server.store import order_tables as order_models  # noqa: F401  (and the work orders')
from xinfang.server.store import report_tables as report_models  # noqa: F401  (and the stored reports')
from xinfang.server.store.db import owned_by_migrations
from xinfang.server.store.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; batch mode does that for later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=owned_by_migrations,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("xinfang migrations run online only: use `xinfang db upgrade`")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    # A plain `alembic -x url=...` run, for developers writing migrations.
    from xinfang.server.store.db import make_engine, resolve_url
    engine = make_engine(resolve_url(context.get_x_argument(as_dictionary=True).get("url")))
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
