"""traffic rollups: per-minute and per-hour request counts and latency buckets per model version

Revision ID: 0003_rollups
Revises: 0002_validation
Create Date: 2026-12-04 03:18:25.527988
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_rollups'
down_revision: str | None = '0002_validation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('traffic_rollups',
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('step_s', sa.Integer(), nullable=False),
    sa.Column('start_s', sa.BigInteger(), nullable=False),
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('client_errors', sa.BigInteger(), nullable=False),
    sa.Column('server_errors', sa.BigInteger(), nullable=False),
    sa.Column('latency_sum_ms', sa.Float(), nullable=False),
    sa.Column('le_1ms', sa.BigInteger(), nullable=False),
    sa.Column('le_2_5ms', sa.BigInteger(), nullable=False),
    sa.Column('le_5ms', sa.BigInteger(), nullable=False),
    sa.Column('le_10ms', sa.BigInteger(), nullable=False),
    sa.Column('le_25ms', sa.BigInteger(), nullable=False),
    sa.Column('le_50ms', sa.BigInteger(), nullable=False),
    sa.Column('le_100ms', sa.BigInteger(), nullable=False),
    sa.Column('le_250ms', sa.BigInteger(), nullable=False),
    sa.Column('le_500ms', sa.BigInteger(), nullable=False),
    sa.Column('le_1s', sa.BigInteger(), nullable=False),
    sa.Column('le_2_5s', sa.BigInteger(), nullable=False),
    sa.Column('le_5s', sa.BigInteger(), nullable=False),
    sa.Column('le_10s', sa.BigInteger(), nullable=False),
    sa.Column('le_30s', sa.BigInteger(), nullable=False),
    sa.Column('le_inf', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_traffic_rollups_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_traffic_rollups_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'step_s', 'start_s', 'model_id', 'version', name=op.f('pk_traffic_rollups')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('traffic_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_rollups_model_step_start', ['model_id', 'step_s', 'start_s'], unique=False)
        batch_op.create_index('ix_traffic_rollups_step_start', ['step_s', 'start_s'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('traffic_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_rollups_step_start')
        batch_op.drop_index('ix_traffic_rollups_model_step_start')

    op.drop_table('traffic_rollups')
