"""A reflection answer records the chat message that gave it (retries vs overwrites).

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('reflection_answers', sa.Column('message_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reflection_answers', schema=None) as batch_op:
        batch_op.drop_column('message_id')
