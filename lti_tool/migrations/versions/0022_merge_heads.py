"""one line of core migrations again

0014 to 0019 were written side by side, each on 0013, and 0020-0021 went on from 0019:
the core had six heads, which `upgrade heads` applies but which leave new revisions
without a single parent. This revision joins them; it changes nothing in the schema.

Revision ID: 0022_merge_heads
Revises: 0014, 0015, 0016, 0017, 0018, 0021_activity_score_by_user
Create Date: 2026-11-25 05:30:00
"""

from __future__ import annotations

revision = "0022_merge_heads"
down_revision = ("0014", "0015", "0016", "0017", "0018", "0021_activity_score_by_user")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
