"""operations: the monthly 系统巡检 record (healthrecord), the FAQ knowledge base (faqentry, faqvote),
feedback tickets (feedbackticket)

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-06 02:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0015'
down_revision: Union[str, None] = '0011'
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
    op.create_table(
        'faqentry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seed_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column('helpful', sa.Integer(), nullable=False),
        sa.Column('not_helpful', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seed_key'),
    )
    with op.batch_alter_table('faqentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faqentry_category'), ['category'], unique=False)
    op.create_table(
        'faqvote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['faqentry.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('faqvote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faqvote_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faqvote_user_id'), ['user_id'], unique=False)
    op.create_table(
        'feedbackticket',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('page', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('screenshot', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('reply', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('replied_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('replied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('faq_id', sa.Integer(), nullable=True),
        sa.Column('overdue_alerted', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['faq_id'], ['faqentry.id'], ),
        sa.ForeignKeyConstraint(['org_id'], ['org.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('feedbackticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedbackticket_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedbackticket_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedbackticket_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedbackticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedbackticket_user_id'))
        batch_op.drop_index(batch_op.f('ix_feedbackticket_status'))
        batch_op.drop_index(batch_op.f('ix_feedbackticket_org_id'))
    op.drop_table('feedbackticket')
    with op.batch_alter_table('faqvote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faqvote_user_id'))
        batch_op.drop_index(batch_op.f('ix_faqvote_entry_id'))
    op.drop_table('faqvote')
    with op.batch_alter_table('faqentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faqentry_category'))
    op.drop_table('faqentry')
    with op.batch_alter_table('healthrecord', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_healthrecord_month'))
    op.drop_table('healthrecord')
