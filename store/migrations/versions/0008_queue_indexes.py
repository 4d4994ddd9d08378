"""queue indexes: listings in review-queue order (first seen, newest first), overall and per site;
listings by seller (the queue's seller filter)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_first_seen", ["first_seen", "id"], unique=False)
        batch_op.create_index("ix_listings_site_first_seen", ["site_id", "first_seen", "id"], unique=False)
        batch_op.create_index("ix_listings_seller_name", ["seller_name"], unique=False)
        batch_op.create_index("ix_listings_seller_id", ["seller_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_seller_id")
        batch_op.drop_index("ix_listings_seller_name")
        batch_op.drop_index("ix_listings_site_first_seen")
        batch_op.drop_index("ix_listings_first_seen")
