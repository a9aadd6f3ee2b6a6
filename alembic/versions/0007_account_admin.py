"""User administration: the must-change-password flag and the one-time password link.

Plain ``ADD COLUMN``s (no table copy); the downgrade drops them in a batch, which alembic/env.py
makes safe on SQLite by switching foreign keys off around the migration. The ``admin`` role
needs no schema change (``users.role`` is free text checked by the application).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column('users', sa.Column('password_reset_hash', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('password_reset_expires_at', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('password_reset_used_at', sa.DateTime(), nullable=True))
    op.create_index(op.f('ix_users_password_reset_hash'), 'users', ['password_reset_hash'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_users_password_reset_hash'), table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_reset_used_at')
        batch_op.drop_column('password_reset_expires_at')
        batch_op.drop_column('password_reset_hash')
        batch_op.drop_column('must_change_password')
