"""Audit event names of the execution module (matching, counterparty rules, alerts, bank interfaces)."""

EVENTS = {
    "execution.match": "匹配支出", "execution.manual": "登记手工支出", "execution.frozen": "登记冻结",
    "execution.release": "解冻",
    "execution.rule_learned": "学习对方户名规则", "execution.rule_save": "保存对方户名规则",
    "execution.rule_enable": "启用对方户名规则", "execution.rule_disable": "停用对方户名规则",
    "execution.rule_delete": "删除对方户名规则",
    "exec_alert.evaluate": "预警评估", "exec_alert.ack": "确认预警", "exec_alert.close": "关闭预警",
    "exec_alert.threshold": "设置项目预警阈值",
    "bank.sync_now": "立即同步", "bank.ingest": "银行流水入库", "bank.purge_runs": "清理同步记录",
}
