"""orgs: what happens to spending beyond a line's available amount or 用款计划 (limit_manual, limit_freeze,
limit_bank: refuse / alert, NULL inherits) and the funding sources a 控制数 covers (control_sources)

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-06 02:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0013'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limit_manual', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('limit_freeze', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('limit_bank', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('control_sources', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.drop_column('control_sources')
        batch_op.drop_column('limit_bank')
        batch_op.drop_column('limit_freeze')
        batch_op.drop_column('limit_manual')
