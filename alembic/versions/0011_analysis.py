"""analysis: saved report definitions and month/quarter-end report snapshots

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 02:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'reportdefinition',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('rows', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['org.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'name'),
    )
    op.create_index(op.f('ix_reportdefinition_user_id'), 'reportdefinition', ['user_id'], unique=False)
    op.create_index(op.f('ix_reportdefinition_org_id'), 'reportdefinition', ['org_id'], unique=False)
    op.create_table(
        'reportsnapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('rows', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('org_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('data', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['org.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'year', 'period', 'rows'),
    )
    op.create_index(op.f('ix_reportsnapshot_org_id'), 'reportsnapshot', ['org_id'], unique=False)
    op.create_index(op.f('ix_reportsnapshot_year'), 'reportsnapshot', ['year'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reportsnapshot_year'), table_name='reportsnapshot')
    op.drop_index(op.f('ix_reportsnapshot_org_id'), table_name='reportsnapshot')
    op.drop_table('reportsnapshot')
    op.drop_index(op.f('ix_reportdefinition_org_id'), table_name='reportdefinition')
    op.drop_index(op.f('ix_reportdefinition_user_id'), table_name='reportdefinition')
    op.drop_table('reportdefinition')
