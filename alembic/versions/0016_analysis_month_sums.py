"""expendituremonth: spending per budget line and month, kept by triggers on expenditure (insert, update,
delete), backfilled from the expenditures there are

Revision ID: 0016_analysis_month_sums
Revises: 0016_perf_monitor
Create Date: 2026-12-06 04:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from hbbudget.dialect import month_sums


revision: str = '0016_analysis_month_sums'
down_revision: Union[str, None] = '0016_perf_monitor'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('expendituremonth',
                    sa.Column('spent_year', sa.Integer(), nullable=False),
                    sa.Column('budget_line_id', sa.Integer(), nullable=False),
                    sa.Column('spent_month', sa.Integer(), nullable=False),
                    sa.Column('amount', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('spent_year', 'budget_line_id', 'spent_month'),
                    sqlite_with_rowid=False)
    for statement in month_sums.create(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in month_sums.drop(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('expendituremonth')
