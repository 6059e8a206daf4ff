"""Audit event names of the operations module (运维（备份、迁移、巡检、帮助与反馈）)."""

EVENTS = {
    "backup.created": "数据库备份",
    "backup.failed": "数据库备份失败",
    "backup.restored": "数据库恢复",
    "backup.pruned": "清理过期备份",
    "ticket.create": "提交反馈",
    "ticket.reply": "回复反馈",
    "ticket.close": "关闭反馈",
    "ticket.overdue": "反馈超时提醒",
    "faq.save": "编辑知识库",
    "faq.active": "启用/停用知识库条目",
    "faq.vote": "知识库评价",
    "faq.seed": "载入知识库",
    "history.import": "历史数据迁移",
    "health.signoff": "系统巡检签字",
}
