"""collaboration: invitations to an org, and private models shared with another org

Revision ID: 0007_collaboration
Revises: 0006_search_generation
Create Date: 2026-12-05 11:10:00

A share with ``read`` access makes a private model visible in the grantee's marketplace search,
so ``model_shares`` bumps the search generation like ``models`` does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import limelight.db.base
from limelight.db.generation_triggers import bump_on, drop_bumps

revision: str = '0007_collaboration'
down_revision: str | None = '0006_search_generation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHARE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table('invitations',
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('expires_at', limelight.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', limelight.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_by', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', limelight.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', limelight.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_invitations_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    op.create_index(op.f('ix_invitations_org_id'), 'invitations', ['org_id'], unique=False)
    op.create_table('model_shares',
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', limelight.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_model_shares_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_model_shares_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_shares')),
    sa.UniqueConstraint('model_id', 'org_id', name=op.f('uq_model_shares_model_id_org_id'))
    )
    op.create_index(op.f('ix_model_shares_model_id'), 'model_shares', ['model_id'], unique=False)
    op.create_index(op.f('ix_model_shares_org_id'), 'model_shares', ['org_id'], unique=False)
    bump_on('model_shares', _SHARE_EVENTS)


def downgrade() -> None:
    drop_bumps('model_shares', _SHARE_EVENTS)
    op.drop_index(op.f('ix_model_shares_org_id'), table_name='model_shares')
    op.drop_index(op.f('ix_model_shares_model_id'), table_name='model_shares')
    op.drop_table('model_shares')
    op.drop_index(op.f('ix_invitations_org_id'), table_name='invitations')
    op.drop_table('invitations')
