"""Role grants (a role over an org, alone or with its subtree) and the 三员分立 rules on them.

- An account holds business roles only, or roles of exactly one admin kind (系统/安全/审计管理员).
- Admin roles are granted and revoked only by the security admin (admin.roles at a root org);
  business roles by the system admin (admin.users over the user and the org) or the security admin.
- Nobody changes their own grants; the last effective holder of each admin kind is kept (an active account
  with the role at an active root org with its subtree).
"""

from __future__ import annotations

from sqlmodel import Session, select

from hbbudget.db import session_scope
from hbbudget.models import Org, Role, User, UserRole
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id


def rows_for_user(session: Session, user_id: int) -> list[dict]:
    rows = session.exec(select(UserRole, Role, Org).join(Role, Role.id == UserRole.role_id)
                        .join(Org, Org.id == UserRole.org_id).where(UserRole.user_id == user_id)
                        .order_by(UserRole.id)).all()
    return [{"id": str(g.id), "role": r.name, "org": o.name, "scope": "本单位及下级" if g.subtree else "仅本单位",
             "kind": scope.kind_label(r.admin_kind)} for g, r, o in rows]


def _kinds(session: Session, user_id: int, exclude_grant: int | None = None) -> set[str | None]:
    stmt = select(Role.admin_kind).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user_id)
    if exclude_grant is not None:
        stmt = stmt.where(UserRole.id != exclude_grant)
    return set(session.exec(stmt).all())


def _effective(session: Session, kind: str, *, user_id: int | None = None, exclude_user: int | None = None,
               exclude_grant: int | None = None) -> set[int]:
    """Ids of active accounts effectively holding an admin kind: the grant at an active root org with its
    subtree (what `scope.require_global` accepts); a narrower or dead grant gives no admin power."""
    stmt = (select(UserRole.user_id, Org.path).join(Role, Role.id == UserRole.role_id)
            .join(User, User.id == UserRole.user_id).join(Org, Org.id == UserRole.org_id)
            .where(Role.admin_kind == kind, User.active == True, Org.active == True,  # noqa: E712
                   UserRole.subtree == True))  # noqa: E712
    if user_id is not None:
        stmt = stmt.where(UserRole.user_id == user_id)
    if exclude_user is not None:
        stmt = stmt.where(UserRole.user_id != exclude_user)
    if exclude_grant is not None:
        stmt = stmt.where(UserRole.id != exclude_grant)
    return {uid for uid, path in session.exec(stmt).all() if scope.is_root_path(path)}


def refuse_last_holder(session: Session, user_id: int, removing_grant: int | None = None) -> None:
    """Refuse when `user_id` is the last account effectively holding an admin kind it would stop holding
    (by being disabled, or by losing `removing_grant`)."""
    for kind in set(scope.ADMIN_KINDS) & (_kinds(session, user_id) - {None}):
        if not _effective(session, kind, user_id=user_id):
            continue  # it holds no effective grant of this kind: nothing is lost
        if removing_grant is not None and _effective(session, kind, user_id=user_id, exclude_grant=removing_grant):
            continue  # another effective grant of the same kind stays
        if not _effective(session, kind, exclude_user=user_id):
            raise ValidationError(f"三员分立：这是最后一个有效的{scope.kind_label(kind)}账号，不能停用或撤销")


def _check_actor(ctx: UserContext, role: Role, user: User, user_org: Org, org: Org) -> None:
    if user.id == ctx.user_id:
        raise PermissionDenied("不能修改自己的角色")
    if role.admin_kind:
        scope.require_global(ctx, "admin.roles")
        return
    if scope.has_global(ctx, "admin.roles"):
        return
    for target in (user_org, org):  # a system admin: the user and the org both within its scope
        scope.require(ctx, "admin.users", target)


def grant(ctx: UserContext, user_id: object, role_id: object, org_id: object, subtree: object = True) -> int:
    if not isinstance(subtree, bool):
        raise ValidationError("授权范围无效")
    with session_scope() as session:
        user = session.get(User, int_id(user_id, "用户"))
        role = session.get(Role, int_id(role_id, "角色"))
        org = session.get(Org, int_id(org_id, "单位"))
        if user is None or role is None or org is None:
            raise NotFound("用户、角色或单位不存在")
        _check_actor(ctx, role, user, session.get(Org, user.org_id), org)
        if not org.active:
            raise ValidationError(f"单位“{org.name}”已停用")
        held = _kinds(session, user.id)
        if held and held != {role.admin_kind}:
            other = next(iter(held - {role.admin_kind}), None)
            raise ValidationError(f"三员分立：已担任{scope.kind_label(other)}的账号不能再分配“{role.name}”"
                                  f"（{scope.kind_label(role.admin_kind)}）")
        if session.exec(select(UserRole).where(UserRole.user_id == user.id, UserRole.role_id == role.id,
                                               UserRole.org_id == org.id)).first():
            raise ValidationError("该用户在该单位已有此角色")
        row = UserRole(user_id=user.id, role_id=role.id, org_id=org.id, subtree=subtree)
        session.add(row)
        session.flush()
        audit.record(session, "role.grant", actor=ctx, object_type="user", object_id=user.id, org_id=org.id,
                     after={"user": user.username, "role": role.name, "org": org.name, "subtree": subtree})
        return row.id


def grant_by_username(ctx: UserContext, username: object, role_id: object, org_id: object,
                      subtree: object = True) -> int:
    name = str(username or "").strip()[:64]
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == name)).first()
    if user is None:
        raise NotFound(f"用户不存在：{name}")
    return grant(ctx, user.id, role_id, org_id, subtree)


def revoke(ctx: UserContext, grant_id: object) -> None:
    with session_scope() as session:
        row = session.get(UserRole, int_id(grant_id, "授权"))
        if row is None:
            raise NotFound("授权不存在")
        user, role, org = session.get(User, row.user_id), session.get(Role, row.role_id), session.get(Org, row.org_id)
        _check_actor(ctx, role, user, session.get(Org, user.org_id), org)
        refuse_last_holder(session, user.id, removing_grant=row.id)
        before = {"user": user.username, "role": role.name, "org": org.name, "subtree": row.subtree}
        session.delete(row)
        audit.record(session, "role.revoke", actor=ctx, object_type="user", object_id=user.id, org_id=org.id,
                     before=before)


def members(ctx: UserContext, role_id: object) -> list[dict]:
    """Who holds a role (for the security admin)."""
    scope.require_global(ctx, "admin.roles")
    with session_scope() as session:
        rows = session.exec(select(UserRole, User, Org).join(User, User.id == UserRole.user_id)
                            .join(Org, Org.id == UserRole.org_id)
                            .where(UserRole.role_id == int_id(role_id, "角色")).order_by(User.username)).all()
    return [{"id": str(g.id), "username": u.username, "full_name": u.full_name, "org": o.name,
             "scope": "本单位及下级" if g.subtree else "仅本单位", "active": "正常" if u.active else "停用"}
            for g, u, o in rows]
