"""shown items: what each recommender showed per week, for coverage, concentration and drift

Revision ID: 0011_shown_items
Revises: 0010_experiments
Create Date: 2026-12-05 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_shown_items'
down_revision: str | None = '0010_experiments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('shown_item_weeks',
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('week_s', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.String(length=256), nullable=False),
    sa.Column('shown', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_shown_item_weeks_model_id_models'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'week_s', 'item_id', name=op.f('pk_shown_item_weeks')),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('shown_item_weeks')
