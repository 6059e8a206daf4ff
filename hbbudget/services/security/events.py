"""Audit event names of the security module (login, sessions, users, roles, policy, the audit log itself)."""

EVENTS = {
    "login.success": "登录成功", "login.failed": "登录失败", "login.locked": "锁定期间登录", "logout": "退出登录",
    "session.expired": "会话超时", "session.revoke": "强制下线", "permission.denied": "越权访问被拒绝",
    "request.rejected": "请求对象不在页面范围内被拒绝",
    "password.change": "修改密码", "user.create": "创建用户", "user.update": "修改用户", "user.enable": "启用用户",
    "user.disable": "停用用户", "user.reset_password": "重置密码", "role.grant": "分配角色", "role.revoke": "撤销角色",
    "role.create": "新建角色", "role.update": "修改角色", "role.delete": "删除角色", "role.permission": "修改角色权限",
    "role.defaults_added": "内置角色增加默认权限", "policy.update": "修改安全策略", "audit.export": "导出审计日志",
    "audit.purge": "清理审计日志", "alert.ack": "确认安全告警",
}
