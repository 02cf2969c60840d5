"""Persistence: engines and sessions, the SQLAlchemy tables, alembic migrations."""
