"""First-run set-up: reference data, default roles, the root org and the three admin accounts."""

from __future__ import annotations

import secrets

from sqlmodel import select

from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import Org, User, UserRole
from hbbudget.services.core import audit, orgs, refdata
from hbbudget.services.performance import library
from hbbudget.services.security import roles
from hbbudget.services.security.auth import hash_password

ROOT_ORG = ("130000000", "河北省财政厅", "行政", "130000")
ADMINS = (("sysadmin", "系统管理员", "sys_admin"), ("secadmin", "安全管理员", "sec_admin"),
          ("auditadmin", "审计管理员", "audit_admin"))


def init_reference_data() -> str:
    """Load regions and subjects for this and next fiscal year, and the default roles (idempotent)."""
    year = current_fiscal_year()
    with session_scope() as session:
        counts = refdata.load_all(session, [year, year + 1])
        counts["indicators"] = sum(library.load_shipped(session, y) for y in (year, year + 1))
        counts["roles"] = roles.ensure_default_roles(session)
        if any(counts.values()):
            audit.record(session, "reference.load", detail="载入参考数据", after=counts)
    return "，".join(f"{k} 新增 {v}" for k, v in counts.items())


def root_org(session) -> Org:
    org = orgs.by_code(session, ROOT_ORG[0])
    if org is None:
        code, name, unit_type, region = ROOT_ORG
        org = orgs.create(session, code, name, unit_type, region_code=region)
    return org


def ensure_admin_accounts() -> list[str]:
    """Create the three separated admin accounts when missing, with one-time random passwords."""
    lines = []
    with session_scope() as session:
        root = root_org(session)
        for username, full_name, role_code in ADMINS:
            if session.exec(select(User).where(User.username == username)).first():
                continue
            password = secrets.token_urlsafe(9) + "@1a"
            user = User(username=username, full_name=full_name, org_id=root.id,
                        password_hash=hash_password(password), must_change_password=True)
            session.add(user)
            session.flush()
            session.add(UserRole(user_id=user.id, role_id=roles.by_code(session, role_code).id, org_id=root.id))
            audit.record(session, "user.create", object_type="user", object_id=user.id, org_id=root.id,
                         after={"username": username, "role": role_code})
            lines.append(f"已创建 {full_name} 账号 {username}，初始密码 {password}（首次登录须修改）")
    return lines
