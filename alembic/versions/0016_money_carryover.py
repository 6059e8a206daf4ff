"""结转: carry-over proposals (carryover) and their lines (carryoverline)

Revision ID: 0016_money_carryover
Revises: 0016_analysis_month_sums
Create Date: 2026-12-06 04:15:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0016_money_carryover'
down_revision: Union[str, None] = '0016_analysis_month_sums'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'carryover',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('budget_id', sa.Integer(), nullable=False),
        sa.Column('to_year', sa.Integer(), nullable=False),
        sa.Column('reviewer_org_id', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('result_budget_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['budget_id'], ['budget.id']),
        sa.ForeignKeyConstraint(['org_id'], ['org.id']),
        sa.ForeignKeyConstraint(['result_budget_id'], ['budget.id']),
        sa.ForeignKeyConstraint(['reviewer_org_id'], ['org.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('carryover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carryover_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carryover_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carryover_reviewer_org_id'), ['reviewer_org_id'], unique=False)
    op.create_table(
        'carryoverline',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('carry_id', sa.Integer(), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['carry_id'], ['carryover.id']),
        sa.ForeignKeyConstraint(['line_id'], ['budgetline.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('carryoverline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carryoverline_carry_id'), ['carry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carryoverline_line_id'), ['line_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('carryoverline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carryoverline_line_id'))
        batch_op.drop_index(batch_op.f('ix_carryoverline_carry_id'))
    op.drop_table('carryoverline')
    with op.batch_alter_table('carryover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carryover_reviewer_org_id'))
        batch_op.drop_index(batch_op.f('ix_carryover_org_id'))
        batch_op.drop_index(batch_op.f('ix_carryover_budget_id'))
    op.drop_table('carryover')
