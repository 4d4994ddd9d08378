"""search_words: what each search word cost and yielded per crawl run (the daily crawl budget's plan)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_words",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(length=30), nullable=False),
        sa.Column("result_pages", sa.Integer(), nullable=False),
        sa.Column("listing_pages", sa.Integer(), nullable=False),
        sa.Column("listing_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name=op.f("fk_search_words_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_search_words_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_words")),
    )
    with op.batch_alter_table("search_words") as batch:
        batch.create_index(batch.f("ix_search_words_run_id"), ["run_id"], unique=False)
        batch.create_index("ix_search_words_site_word", ["site_id", "word"], unique=False)


def downgrade() -> None:
    op.drop_table("search_words")
