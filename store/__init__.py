"""Storage stage: SQLAlchemy models, engine and sessions, Alembic migrations."""
