"""Audit event names of the budgeting module (projects, budgets and their lines, review, rules, templates)."""

EVENTS = {
    "project.create": "新建项目", "project.update": "修改项目", "project.delete": "删除项目",
    "project.targets": "设置绩效目标", "project.attach": "上传项目附件", "project.detach": "删除项目附件",
    # project.<transition> (flows.PROJECT_FLOW)
    "project.declare": "申报项目", "project.approve": "项目审核通过", "project.return": "退回项目",
    "project.include": "项目纳入预算", "project.start": "项目开始执行", "project.complete": "项目完成",
    "project.terminate": "终止项目",
    "budget.create": "新建预算", "budget.line.add": "新增预算行", "budget.line.update": "修改预算行",
    "budget.line.delete": "删除预算行", "budget.import": "导入预算", "budget.export": "导出预算",
    "budget.template": "按模板生成预算行", "budget.carry_forward": "按上年预算生成", "budget.transfer": "行间调剂",
    "budget.settings": "修改编制设置", "budget.control": "下达控制数",
    # budget.<transition> (flows.BUDGET_FLOW) and the move to the next round
    "budget.submit": "上报预算", "budget.approve": "预算审核通过", "budget.return": "退回预算",
    "budget.round": "预算转入下一轮次",
    "budget.carryover.propose": "申请结转", "budget.carryover.approve": "批准结转", "budget.carryover.return": "退回结转申请",
    "rule.create": "新增校验规则", "rule.update": "修改校验规则", "rule.delete": "删除校验规则",
    "template.create": "新建编制模板", "template.update": "修改编制模板", "template.delete": "删除编制模板",
}
