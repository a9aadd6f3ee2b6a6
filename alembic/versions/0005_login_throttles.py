"""Login throttling per (username, client address) and per username; drop the account lock.

``users.failed_logins`` and ``users.locked_until`` (a fixed lock anyone could set off for any
known username) give way to the table ``login_throttles`` (see assistant.users).

The columns are dropped with a plain ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35+), not a
batch copy: on SQLite a batch operation recreates the table, and dropping the old ``users``
with foreign keys on would cascade-delete every row that refers to a user.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_throttles',
        sa.Column('username', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(), nullable=False),
        sa.Column('next_allowed_at', sa.DateTime(), nullable=False),
        sa.Column('last_success_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('username', 'address'),
    )
    op.create_index(op.f('ix_login_throttles_last_failure_at'), 'login_throttles', ['last_failure_at'],
                    unique=False)
    op.drop_column('users', 'failed_logins')
    op.drop_column('users', 'locked_until')


def downgrade() -> None:
    # ADD COLUMN needs a default for NOT NULL on SQLite; nobody is locked after a downgrade
    op.add_column('users', sa.Column('locked_until', sa.DateTime(), nullable=True))
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.drop_index(op.f('ix_login_throttles_last_failure_at'), table_name='login_throttles')
    op.drop_table('login_throttles')
