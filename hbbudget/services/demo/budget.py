"""Budgeting demo data for 河北示范大学信息工程学院 (jingban's org): projects, last year's approved budget, a draft
for next year, a rule set and category templates at the city finance bureau. Idempotent: adds only what is missing."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import (
    Budget,
    BudgetLine,
    BudgetVersion,
    CategoryTemplate,
    CategoryTemplateItem,
    ControlNumber,
    Org,
    Project,
    ProjectTarget,
    Rule,
    User,
)
from hbbudget.models.budget import MONTHS
from hbbudget.services.budgeting import lines
from hbbudget.services.core import audit, orgs, refdata

COLLEGE, FINANCE = "DEMO-U01-01", "130100000"
FUNC = "2050205"  # 高等教育

# key, name, category, kind, start offset, end offset, status, total 元 (all years: rules.project_total), targets:
# (indicator, unit, direction, target, weight, 一级, 二级), weights 产出 50 / 效益 30 / 满意度 10 (+ 预算执行率 10 = 100)
PROJECTS = (
    ("staff", "人员经费", "1", "延续", -5, 5, "执行中", "90000000", []),
    ("office", "公用经费", "21", "延续", -5, 5, "执行中", "9000000", []),
    ("lab", "智能计算实验室建设", "3", "延续", -1, 1, "执行中", "5000000",
     [("新增计算节点", "台", "≥", "40", 35, "产出", "数量指标"), ("设备验收合格率", "%", "≥", "100", 15, "产出", "质量指标"),
      ("支撑科研项目数", "项", "≥", "20", 30, "效益", "社会效益指标"), ("师生满意度", "%", "≥", "90", 10, "满意度", "服务对象满意度指标")]),
    ("classroom", "智慧教室改造", "3", "新增", 0, 0, "已完成", "600000",
     [("改造教室数量", "间", "≥", "12", 50, "产出", "数量指标"), ("智慧教学课时占比", "%", "≥", "60", 30, "效益", "社会效益指标"),
      ("师生满意度", "%", "≥", "90", 10, "满意度", "服务对象满意度指标")]),
    ("ai", "人工智能课程建设", "3", "新增", 1, 2, "已入库", "600000",
     [("新建课程", "门", "≥", "6", 30, "产出", "数量指标"), ("课程建设按期完成", "", "定性", "按期完成", 20, "产出", "时效指标"),
      ("选课学生人次", "人次", "≥", "500", 30, "效益", "社会效益指标"), ("学生满意度", "%", "≥", "90", 10, "满意度", "服务对象满意度指标")]),
    ("contest", "学科竞赛支持", "3", "新增", 1, 1, "草稿", "150000",
     [("获省级以上奖项", "项", "≥", "5", 50, "产出", "数量指标"), ("参赛学生人次", "人次", "≥", "200", 30, "效益", "社会效益指标"),
      ("学生满意度", "%", "≥", "90", 10, "满意度", "服务对象满意度指标")]),
)

# project key → [(econ code, 元)]: last year's approved budget; next year's draft applies GROWTH per 类
APPROVED = {
    "staff": [("30101", "3600000"), ("30102", "1200000"), ("30107", "1800000"), ("30108", "480000"),
              ("30113", "430000")],
    "office": [("30201", "180000"), ("30205", "40000"), ("30206", "160000"), ("30211", "150000"), ("30213", "80000"),
               ("30216", "60000"), ("30217", "20000"), ("30231", "45000")],
    "lab": [("31003", "1500000"), ("30227", "200000")],
    "classroom": [("31007", "600000")],
}
DRAFT_EXTRA = {"lab": [("31003", "800000"), ("30227", "150000")], "ai": [("30227", "300000"), ("30226", "120000")]}
GROWTH_301 = 3  # % on 工资福利支出 in the draft

TEMPLATES = (
    ("高校科研项目", "科研项目常用经济分类及默认比例", (("30201", "10"), ("30211", "15"), ("30215", "5"), ("30226", "30"),
                                           ("30227", "20"), ("31002", "20"))),
    ("医院设备购置", "设备购置及安装维护", (("31003", "90"), ("30213", "10"))),
    ("乡镇日常运转", "乡镇机关日常公用经费", (("30201", "30"), ("30205", "10"), ("30206", "20"), ("30211", "15"),
                                  ("30213", "15"), ("30299", "10"))),
)


def _projects(session: Session, college: Org, user: User, year: int) -> tuple[dict[str, Project], int]:
    out, added = {}, 0
    for n, (key, name, cat, kind, start, end, status, total, targets) in enumerate(PROJECTS, 1):
        code = f"{college.region_code or '000000'}{year + start}P{n:06d}"
        p = session.exec(select(Project).where(Project.code == code)).first()
        if p is None:
            p = Project(code=code, name=name, org_id=college.id, category=cat, kind=kind, start_year=year + start,
                        end_year=year + end, total=money.parse_yuan(total), func_code=FUNC, owner="王经办",
                        status=status, created_by_id=user.id, description=f"{name}（演示数据）")
            session.add(p)
            session.flush()
            session.add_all(ProjectTarget(project_id=p.id, indicator=i, unit=u, direction=d, target_value=v, weight=w,
                                          level1=l1, level2=l2) for i, u, d, v, w, l1, l2 in targets)
            added += 1
        out[key] = p
    return out, added


def _lines(budget: Budget, entries: list[tuple[Project, str, int]], user: User) -> list[BudgetLine]:
    return [BudgetLine(budget_id=budget.id, project_id=p.id, econ_code=econ, func_code=FUNC, source="财政拨款",
                       amount=fen, updated_by_id=user.id, updated_by=user.full_name,
                       **dict(zip(MONTHS, money.spread(fen))))
            for p, econ, fen in entries]


def _budget(session: Session, college: Org, user: User, year: int, rnd: str, status: str,
            entries: list[tuple[Project, str, int]]) -> bool:
    if session.exec(select(Budget.id).where(Budget.org_id == college.id, Budget.fiscal_year == year,
                                            Budget.seq == 0)).first():
        return False
    b = Budget(org_id=college.id, fiscal_year=year, round=rnd, status=status, created_by_id=user.id)
    session.add(b)
    session.flush()
    session.add_all(_lines(b, entries, user))
    session.flush()
    if status == "已批复":
        snap = lines.snapshot(session, b)
        b.version_no = 1
        session.add(BudgetVersion(budget_id=b.id, version_no=1, round="二上", event="上报", created_by=user.full_name,
                                  total=sum(x["amount"] for x in snap), lines=json.dumps(snap, ensure_ascii=False)))
        session.add(ControlNumber(org_id=college.id, fiscal_year=year, amount=sum(f for _, _, f in entries),
                                  issued_by_org_id=college.parent_id, issued_by="赵校长"))
    return True


def _rules(session: Session, finance: Org, years: list[int]) -> int:
    added = 0
    for year in years:
        for kind, name, severity, params in (
                ("share_cap", "商品和服务支出占比", "warning", {"subject": "302", "of": "total", "max_percent": "30.00"}),
                ("sangong_cap", "三公经费只减不增", "error", {"codes": "30212,30217,30231,31013"})):
            if session.exec(select(Rule.id).where(Rule.org_id == finance.id, Rule.fiscal_year == year,
                                                  Rule.kind == kind)).first() is None:
                session.add(Rule(org_id=finance.id, fiscal_year=year, kind=kind, name=name, severity=severity,
                                 params=json.dumps(params, ensure_ascii=False, sort_keys=True)))
                added += 1
    return added


def _templates(session: Session, finance: Org) -> int:
    added = 0
    for name, desc, items in TEMPLATES:
        if session.exec(select(CategoryTemplate.id).where(CategoryTemplate.org_id == finance.id,
                                                          CategoryTemplate.name == name)).first():
            continue
        t = CategoryTemplate(org_id=finance.id, name=name, description=desc)
        session.add(t)
        session.flush()
        session.add_all(CategoryTemplateItem(template_id=t.id, econ_code=c, share_bp=int(s) * 100) for c, s in items)
        added += 1
    return added


def seed() -> dict[str, int]:
    """Add the missing budgeting demo rows; returns counts added (all zero on a second run)."""
    year = current_fiscal_year()
    with session_scope() as session:
        college, finance = orgs.by_code(session, COLLEGE), orgs.by_code(session, FINANCE)
        user = session.exec(select(User).where(User.username == "jingban")).first()
        if college is None or finance is None or user is None:
            return {}
        refdata.load_all(session, [year, year + 1])
        projs, n_projects = _projects(session, college, user, year)
        approved = [(projs[k], econ, money.parse_yuan(v)) for k, entries in APPROVED.items() for econ, v in entries]
        draft = [(p, econ, money.scale(fen, money.parse_percent(GROWTH_301)) if econ.startswith("301") else fen)
                 for p, econ, fen in approved if p.category in ("1", "21")]
        draft += [(projs[k], econ, money.parse_yuan(v)) for k, entries in DRAFT_EXTRA.items() for econ, v in entries]
        counts = {"projects": n_projects,
                  "budgets": int(_budget(session, college, user, year, "二下", "已批复", approved))
                  + int(_budget(session, college, user, year + 1, "一上", "草稿", draft)),
                  "rules": _rules(session, finance, [year, year + 1]), "templates": _templates(session, finance)}
        if any(counts.values()):
            audit.record(session, "demo.seed", detail="载入预算编制演示数据", after=counts)
        return counts
