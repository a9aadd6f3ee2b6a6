"""A shared reflection records the person it was shared with.

Existing shared rows are given the author's line manager at the time of the migration
(the only manager they can have been shared with, as managers could not change before).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite this copies the table: safe only because alembic/env.py turns foreign keys
    # off around migrations (else dropping the old table deletes every answer).
    with op.batch_alter_table('reflections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared_with_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_reflections_shared_with_id'), ['shared_with_id'], unique=False)
        batch_op.create_foreign_key('fk_reflections_shared_with_id_users', 'users', ['shared_with_id'], ['id'],
                                    ondelete='SET NULL')
    op.execute(
        "UPDATE reflections SET shared_with_id = "
        "(SELECT users.manager_id FROM users WHERE users.id = reflections.author_id) "
        "WHERE shared"
    )
    # a shared row whose author had no manager any more is shared with nobody
    op.execute("UPDATE reflections SET shared = false, shared_at = NULL WHERE shared AND shared_with_id IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('reflections', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reflections_shared_with_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reflections_shared_with_id'))
        batch_op.drop_column('shared_with_id')
