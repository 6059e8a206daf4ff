"""绩效 双监控: checkpoints per org and year, monitor reports per project and target; perfsetting.lag_points

Revision ID: 0016_perf_monitor
Revises: 0013
Create Date: 2026-12-06 03:41:22.802513
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0016_perf_monitor'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('perfcheckpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('through_month', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'fiscal_year', 'seq')
    )
    with op.batch_alter_table('perfcheckpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_perfcheckpoint_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_perfcheckpoint_org_id'), ['org_id'], unique=False)

    op.create_table('perfmonitor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('through_month', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('spent_fen', sa.BigInteger(), nullable=False),
    sa.Column('flag', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('problems', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('reported_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'fiscal_year', 'seq')
    )
    with op.batch_alter_table('perfmonitor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_perfmonitor_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_perfmonitor_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_perfmonitor_project_id'), ['project_id'], unique=False)

    op.create_table('perfmonitoritem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('reached', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('estimate', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('likely', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['monitor_id'], ['perfmonitor.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['projecttarget.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('monitor_id', 'target_id')
    )
    with op.batch_alter_table('perfmonitoritem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_perfmonitoritem_monitor_id'), ['monitor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_perfmonitoritem_target_id'), ['target_id'], unique=False)

    with op.batch_alter_table('perfsetting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lag_points', sa.Integer(), nullable=False, server_default='10'))



def downgrade() -> None:
    with op.batch_alter_table('perfsetting', schema=None) as batch_op:
        batch_op.drop_column('lag_points')

    with op.batch_alter_table('perfmonitoritem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_perfmonitoritem_target_id'))
        batch_op.drop_index(batch_op.f('ix_perfmonitoritem_monitor_id'))

    op.drop_table('perfmonitoritem')
    with op.batch_alter_table('perfmonitor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_perfmonitor_project_id'))
        batch_op.drop_index(batch_op.f('ix_perfmonitor_org_id'))
        batch_op.drop_index(batch_op.f('ix_perfmonitor_fiscal_year'))

    op.drop_table('perfmonitor')
    with op.batch_alter_table('perfcheckpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_perfcheckpoint_org_id'))
        batch_op.drop_index(batch_op.f('ix_perfcheckpoint_fiscal_year'))

    op.drop_table('perfcheckpoint')
