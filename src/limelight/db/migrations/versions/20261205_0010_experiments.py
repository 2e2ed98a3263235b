"""experiments: traffic splits between a model's aliases, their exposures, and events citing a request

Revision ID: 0010_experiments
Revises: 0009_usage_quotas
Create Date: 2026-12-05 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import limelight.db.base

revision: str = '0010_experiments'
down_revision: str | None = '0009_usage_quotas'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('experiments',
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('alpha', sa.Float(), nullable=False),
    sa.Column('min_samples', sa.Integer(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=True),
    sa.Column('sticky_field', sa.String(length=64), nullable=False),
    sa.Column('guardrails', sa.JSON(), nullable=False),
    sa.Column('auto_decide', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('ended_at', limelight.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.JSON(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', limelight.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_experiments_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_experiments_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiments'))
    )
    op.create_index(op.f('ix_experiments_org_id'), 'experiments', ['org_id'], unique=False)
    op.create_index('ix_experiments_model_status', 'experiments', ['model_id', 'status'], unique=False)
    op.create_table('experiment_exposures',
    sa.Column('experiment_id', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('end_user', sa.String(length=256), nullable=True),
    sa.Column('status', sa.SmallInteger(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('ts', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'],
                            name=op.f('fk_experiment_exposures_experiment_id_experiments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('experiment_id', 'request_id', name=op.f('pk_experiment_exposures'))
    )
    op.create_index('ix_experiment_exposures_variant', 'experiment_exposures', ['experiment_id', 'variant', 'ts'],
                    unique=False)
    # a plain ADD COLUMN (no batch rebuild of events)
    op.add_column('events', sa.Column('request_id', sa.String(length=64), nullable=True))
    op.create_index('ix_events_org_request', 'events', ['org_id', 'request_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_org_request', table_name='events')
    op.drop_column('events', 'request_id')
    op.drop_index('ix_experiment_exposures_variant', table_name='experiment_exposures')
    op.drop_table('experiment_exposures')
    op.drop_index('ix_experiments_model_status', table_name='experiments')
    op.drop_index(op.f('ix_experiments_org_id'), table_name='experiments')
    op.drop_table('experiments')
