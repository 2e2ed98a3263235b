"""events belong to an interactions dataset; shared failed sign-in counters

Revision ID: 0004_input
Revises: 0003_rollups
Create Date: 2026-12-04 04:10:00

Existing events of an org with exactly one interactions dataset are given to it (that is the data
they were mixed into before); other existing events stay without a dataset, read by no training.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_input'
down_revision: str | None = '0003_rollups'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dataset', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_events_org_dataset_seq', ['org_id', 'dataset', 'seq'], unique=False)
    op.execute(
        "UPDATE events SET dataset = (SELECT MIN(d.name) FROM datasets d WHERE d.org_id = events.org_id "
        "AND d.kind = 'interactions') WHERE (SELECT COUNT(*) FROM datasets d WHERE d.org_id = events.org_id "
        "AND d.kind = 'interactions') = 1"
    )
    op.create_table('login_failures',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.Float(), nullable=False),
    sa.Column('locked_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_failures'))
    )


def downgrade() -> None:
    op.drop_table('login_failures')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_org_dataset_seq')
        batch_op.drop_column('dataset')
