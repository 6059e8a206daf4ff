"""integrations: evidence anchors; finance-cloud exchange runs and 指标 imports; e-invoices attached to payments or manual expenditures, unique across all orgs and years

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 01:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0012'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    s = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        'invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', s(length=40), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.Integer(), nullable=True),
        sa.Column('expenditure_id', sa.Integer(), nullable=True),
        sa.Column('kind', s(length=40), nullable=False),
        sa.Column('code', s(length=12), nullable=False),
        sa.Column('number', s(length=20), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('seller_name', s(length=140), nullable=False),
        sa.Column('seller_tax_id', s(length=32), nullable=False),
        sa.Column('buyer_name', s(length=140), nullable=False),
        sa.Column('buyer_tax_id', s(length=32), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('tax', sa.BigInteger(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('source_format', s(length=24), nullable=False),
        sa.Column('file_name', s(length=200), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('verify_status', s(length=8), nullable=False),
        sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_by', s(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['org.id']),
        sa.ForeignKeyConstraint(['transaction_id'], ['banktransaction.id']),
        sa.ForeignKeyConstraint(['expenditure_id'], ['expenditure.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_invoice_org_id', 'invoice', ['org_id'])
    op.create_index('ix_invoice_transaction_id', 'invoice', ['transaction_id'])
    op.create_index('ix_invoice_expenditure_id', 'invoice', ['expenditure_id'])
    op.create_table(
        'fincloudrun',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', s(length=8), nullable=False),
        sa.Column('fiscal_year', sa.Integer(), nullable=False),
        sa.Column('batch_id', s(length=64), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('result', s(length=8), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('accepted', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('duplicate_pages', sa.Integer(), nullable=False),
        sa.Column('rejections', s(), nullable=False),
        sa.Column('error', s(length=500), nullable=False),
        sa.Column('trigger', s(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fincloudrun_batch_id', 'fincloudrun', ['batch_id'])
    op.create_index('ix_fincloudrun_started_at', 'fincloudrun', ['started_at'])
    op.create_table(
        'fincloudimport',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fiscal_year', sa.Integer(), nullable=False),
        sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status', s(length=8), nullable=False),
        sa.Column('digest', s(length=64), nullable=False),
        sa.Column('indicators', s(), nullable=False),
        sa.Column('unreadable', s(), nullable=False),
        sa.Column('org_ids', s(), nullable=False),
        sa.Column('decided_by', s(length=64), nullable=False),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('comment', s(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fincloudimport_fiscal_year', 'fincloudimport', ['fiscal_year'])
    op.create_index('ix_fincloudimport_status', 'fincloudimport', ['status'])
    op.create_table(
        'evidenceanchor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', s(length=16), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('sha256', s(length=64), nullable=False),
        sa.Column('receipt_id', s(length=64), nullable=False),
        sa.Column('anchored_at', s(length=40), nullable=False),
        sa.Column('signature', s(length=200), nullable=False),
        sa.Column('public_key', s(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'ref_id', 'sha256'),
    )
    op.create_index('ix_evidenceanchor_kind', 'evidenceanchor', ['kind'])


def downgrade() -> None:
    op.drop_index('ix_evidenceanchor_kind', table_name='evidenceanchor')
    op.drop_table('evidenceanchor')
    op.drop_index('ix_fincloudimport_status', table_name='fincloudimport')
    op.drop_index('ix_fincloudimport_fiscal_year', table_name='fincloudimport')
    op.drop_table('fincloudimport')
    op.drop_index('ix_fincloudrun_started_at', table_name='fincloudrun')
    op.drop_index('ix_fincloudrun_batch_id', table_name='fincloudrun')
    op.drop_table('fincloudrun')
    op.drop_index('ix_invoice_expenditure_id', table_name='invoice')
    op.drop_index('ix_invoice_transaction_id', table_name='invoice')
    op.drop_index('ix_invoice_org_id', table_name='invoice')
    op.drop_table('invoice')
