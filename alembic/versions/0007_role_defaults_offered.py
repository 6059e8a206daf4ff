"""role defaults already offered (RoleDefaultOffered): a later release's new default permissions reach
existing built-in roles once, and a permission the security admin removed is not given back

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 05:05:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The default permissions of each built-in role as of this revision (frozen here, not imported): an existing
# database has had all of these offered, whether or not its security admin kept them.
OFFERED = {
    'operator': ['budget.edit', 'budget.submit', 'budget.view', 'execution.view', 'performance.edit', 'performance.view', 'project.edit', 'project.view', 'report.view', 'subject.view'],
    'accountant': ['budget.edit', 'budget.view', 'execution.match', 'execution.view', 'project.view', 'report.view', 'subject.view'],
    'division_head': ['budget.review', 'budget.view', 'dashboard.view', 'execution.view', 'performance.view', 'project.review', 'project.view', 'report.view', 'subject.view'],
    'unit_leader': ['budget.review', 'budget.view', 'dashboard.view', 'execution.view', 'performance.view', 'project.review', 'project.view', 'report.view'],
    'finance_reviewer': ['budget.review', 'budget.rules', 'budget.templates', 'budget.view', 'dashboard.view', 'execution.view', 'performance.view', 'project.review', 'project.view', 'report.view', 'subject.view'],
    'leader': ['dashboard.view', 'report.view'],
    'sys_admin': ['admin.orgs', 'admin.settings', 'admin.users', 'subject.manage'],
    'sec_admin': ['admin.roles', 'admin.security'],
    'audit_admin': ['audit.export', 'audit.view'],
}


def upgrade() -> None:
    op.create_table('roledefaultoffered',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('permission', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], ),
    sa.PrimaryKeyConstraint('role_id', 'permission')
    )
    conn = op.get_bind()
    roles = dict(conn.execute(sa.text("SELECT code, id FROM role WHERE builtin = :yes"), {"yes": True}).all())
    rows = [{"role_id": roles[code], "permission": p} for code, perms in OFFERED.items() if code in roles
            for p in perms]
    if rows:
        conn.execute(sa.text("INSERT INTO roledefaultoffered (role_id, permission) VALUES (:role_id, :permission)"),
                     rows)


def downgrade() -> None:
    op.drop_table('roledefaultoffered')
