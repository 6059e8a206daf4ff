"""operations: the monthly 系统巡检 record (healthrecord)

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-06 02:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0015'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'healthrecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('overall', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('checks', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('db_size', sa.Integer(), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('signed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('healthrecord', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_healthrecord_month'), ['month'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('healthrecord', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_healthrecord_month'))
    op.drop_table('healthrecord')
