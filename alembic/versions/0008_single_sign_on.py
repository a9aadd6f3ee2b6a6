"""Single sign-on: the provider's identifier on each account, and sign-ins in progress.

``users.sso_id`` is a plain ``ADD COLUMN`` with a unique index (NULLs never clash, on SQLite
and PostgreSQL alike); ``sso_logins`` is new. The downgrade drops both.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('sso_id', sa.String(length=255), nullable=True))
    op.create_index(op.f('ix_users_sso_id'), 'users', ['sso_id'], unique=True)
    op.create_table(
        'sso_logins',
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('browser_hash', sa.String(length=64), nullable=False),
        sa.Column('nonce', sa.String(length=128), nullable=False),
        sa.Column('code_verifier', sa.String(length=128), nullable=False),
        sa.Column('redirect_uri', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('state_hash'),
    )
    op.create_index(op.f('ix_sso_logins_expires_at'), 'sso_logins', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sso_logins_expires_at'), table_name='sso_logins')
    op.drop_table('sso_logins')
    op.drop_index(op.f('ix_users_sso_id'), table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('sso_id')
