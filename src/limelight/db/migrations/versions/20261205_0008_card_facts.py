"""card facts: what the training job recorded about a version for its generated model card

Revision ID: 0008_card_facts
Revises: 0007_collaboration
Create Date: 2026-12-05 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_card_facts'
down_revision: str | None = '0007_collaboration'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (no batch rebuild): the FTS and search-generation triggers on models stay
    op.add_column('model_versions', sa.Column('card_facts', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('model_versions', 'card_facts')  # SQLite 3.35+: no table rebuild, triggers stay
