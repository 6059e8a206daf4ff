"""Demo data: a small Hebei org tree with one user per default role (idempotent)."""

from __future__ import annotations

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import User, UserRole
from hbbudget.services.core import audit, orgs
from hbbudget.services.core.setup import ADMINS, root_org
from hbbudget.services.demo import analysis, budget, execution, performance
from hbbudget.services.security import roles
from hbbudget.services.security.auth import hash_password

DEMO_PASSWORD = "Demo@2026"

# code, name, unit type, region, parent code
DEMO_ORGS = (
    ("130100000", "石家庄市财政局", "行政", "130100", "130000000"),
    ("130200000", "唐山市财政局", "行政", "130200", "130000000"),
    ("DEMO-U01", "河北示范大学", "高校", "130100", "130100000"),
    ("DEMO-U01-01", "河北示范大学信息工程学院", "高校", "130100", "DEMO-U01"),
    ("DEMO-U01-02", "河北示范大学经济管理学院", "高校", "130100", "DEMO-U01"),
    ("DEMO-H01", "石家庄市示范医院", "医院", "130102", "130100000"),
    ("DEMO-T01", "唐山市丰南区示范镇人民政府", "乡镇", "130207", "130200000"),
    ("DEMO-E01", "唐山示范建设投资集团有限公司", "国企", "130200", "130200000"),
)

# username, full name, role code, org code, grant over the subtree
DEMO_USERS = (
    ("jingban", "王经办", "operator", "DEMO-U01-01", False),
    ("kuaiji", "李会计", "accountant", "DEMO-U01", True),
    ("chuzhang", "张处长", "division_head", "DEMO-U01", True),
    ("xiaozhang", "赵校长", "unit_leader", "DEMO-U01", True),
    ("caizheng", "刘审核", "finance_reviewer", "130100000", True),
    ("lingdao", "陈领导", "leader", "130000000", True),
) + tuple((u, name, role, "130000000", True) for u, name, role in ADMINS)


def seed_demo() -> str:
    added_orgs = added_users = 0
    with session_scope() as session:
        roles.ensure_default_roles(session)
        by_code = {"130000000": root_org(session)}
        for code, name, unit_type, region, parent in DEMO_ORGS:
            org = orgs.by_code(session, code)
            if org is None:
                org = orgs.create(session, code, name, unit_type, by_code[parent], region)
                added_orgs += 1
            by_code[code] = org
        for username, full_name, role_code, org_code, subtree in DEMO_USERS:
            if session.exec(select(User).where(User.username == username)).first():
                continue
            org = by_code[org_code]
            is_admin = role_code in {r for _, _, r in ADMINS}
            user = User(username=username, full_name=full_name, org_id=org.id,
                        password_hash=hash_password(DEMO_PASSWORD), must_change_password=is_admin)
            session.add(user)
            session.flush()
            session.add(UserRole(user_id=user.id, role_id=roles.by_code(session, role_code).id, org_id=org.id,
                                 subtree=subtree))
            added_users += 1
        if added_orgs or added_users:
            audit.record(session, "demo.seed", detail="载入演示数据",
                         after={"orgs": added_orgs, "users": added_users})
    budget.seed()  # projects, budgets, rules and templates of issue 3
    execution.seed()  # bank accounts the simulator serves (issue 4)
    performance.seed()  # a confirmed self-evaluation and the 绩效结果应用 rule (issue 13)
    analysis.seed()  # three years of budgets and spending for every demo unit (issue 14)
    return f"演示数据：新增单位 {added_orgs} 个，新增用户 {added_users} 个"
