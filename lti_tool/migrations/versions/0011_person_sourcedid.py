"""the LMS's ID number of a user (lis person_sourcedid)

Revision ID: 0011_person_sourcedid
Revises: 0010_activity_scores
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_person_sourcedid"
down_revision = "0010_activity_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("person_sourcedid", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("person_sourcedid")
