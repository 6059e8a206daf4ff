"""execution: releases of frozen money (Expenditure.freeze_id), the unmatched-days alert threshold per org
(Org.alert_unmatched_days) and per project (ProjectAlertSetting.unmatched_days)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 13:45:55.980006
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('expenditure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('freeze_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_expenditure_freeze_id'), ['freeze_id'], unique=False)
        batch_op.create_foreign_key('fk_expenditure_freeze_id_expenditure', 'expenditure', ['freeze_id'], ['id'])

    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_unmatched_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('projectalertsetting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unmatched_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('projectalertsetting', schema=None) as batch_op:
        batch_op.drop_column('unmatched_days')

    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.drop_column('alert_unmatched_days')

    with op.batch_alter_table('expenditure', schema=None) as batch_op:
        batch_op.drop_constraint('fk_expenditure_freeze_id_expenditure', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_expenditure_freeze_id'))
        batch_op.drop_column('freeze_id')

