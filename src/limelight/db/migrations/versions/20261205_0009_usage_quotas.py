"""usage and quotas: hourly usage per calling org and model, and each org's monthly quotas

Revision ID: 0009_usage_quotas
Revises: 0008_card_facts
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import limelight.db.base

revision: str = '0009_usage_quotas'
down_revision: str | None = '0008_card_facts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usage_hours',
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('hour_s', sa.BigInteger(), nullable=False),
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=130), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('client_errors', sa.BigInteger(), nullable=False),
    sa.Column('server_errors', sa.BigInteger(), nullable=False),
    sa.Column('prompt_tokens', sa.BigInteger(), nullable=False),
    sa.Column('completion_tokens', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_usage_hours_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'hour_s', 'model_id', name=op.f('pk_usage_hours')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('usage_hours', schema=None) as batch_op:
        batch_op.create_index('ix_usage_hours_hour_s', ['hour_s'], unique=False)
    op.create_table('org_quotas',
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('requests_per_month', sa.BigInteger(), nullable=True),
    sa.Column('compute_seconds_per_month', sa.Float(), nullable=True),
    sa.Column('storage_bytes', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', limelight.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_org_quotas_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_org_quotas')),
    )


def downgrade() -> None:
    op.drop_table('org_quotas')
    with op.batch_alter_table('usage_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_hours_hour_s')
    op.drop_table('usage_hours')
