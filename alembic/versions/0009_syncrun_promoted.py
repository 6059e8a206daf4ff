"""execution: pending (PDNG) entries promoted to booked by a sync run (SyncRun.promoted); existing runs get 0

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 17:14:46
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('syncrun', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promoted', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('syncrun', schema=None) as batch_op:
        batch_op.drop_column('promoted')
