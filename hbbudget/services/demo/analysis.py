"""数据分析 demo data: every demo unit gets approved budgets and spending for this year and the two before, so
every report, chart, drill-down and forecast shows something on the first run. Spending follows a seasonal
profile (the Spring Festival dip in February, the December rush); two projects lag this year and one line of the
hospital is overspent. Seeded (the same figures on every machine for the same day) and idempotent: an org's year
is added once, with its budget and spending in one transaction. The university's payments are bank
transactions on its demo account (counterparty, remittance); the others are manual entries.

The college 信息工程学院 keeps this year's budget and spending from services.demo.budget/execution."""

from __future__ import annotations

import random
from datetime import date, datetime

from sqlmodel import Session, select

from hbbudget import money
from hbbudget.clock import CHINA
from hbbudget.db import session_scope
from hbbudget.models import BankAccount, BankTransaction, Budget, BudgetLine, Expenditure, Org, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.core import audit, data_version, orgs, refdata

SEASON = (5, 3, 7, 8, 8, 9, 7, 6, 9, 9, 10, 19)  # % of a year's spending per month: 春节 dip, December rush
# org code → function code, basic lines [(econ, 万元)], projects [(key, name, econ, 万元)]
UNITS = {
    "DEMO-U01": ("2050205", [("30101", 820), ("30102", 260), ("30201", 60), ("30213", 90)],
                 [("net", "校园网络升级", "31002", 380), ("lib", "图书馆文献资源购置", "31099", 240)]),
    "DEMO-U01-01": ("2050205", [("30101", 310), ("30201", 25)], [("gpu", "智能计算平台运维", "30213", 120)]),
    "DEMO-U01-02": ("2050205", [("30101", 290), ("30201", 22)],
                    [("case", "案例教学中心建设", "31002", 160), ("intern", "实习基地建设", "30227", 90)]),
    "DEMO-H01": ("2100201", [("30101", 1450), ("30201", 180), ("30218", 260)],
                 [("ct", "CT设备购置", "31003", 900), ("info", "智慧医院信息系统", "31002", 420)]),
    "DEMO-T01": ("2010101", [("30101", 210), ("30201", 35), ("30211", 12)],
                 [("road", "村道硬化工程", "31005", 300), ("water", "农村饮水安全巩固", "31005", 150)]),
    "DEMO-E01": ("2019999", [("30201", 40)], [("park", "产业园区基础设施", "31005", 650)]),
}
LAGGARDS = {("DEMO-T01", "road"): 45, ("DEMO-U01-02", "case"): 55}  # % of the usual pace this year
OVERSPENT = ("DEMO-H01", "30218")  # this year's spending runs at 125 % of the pace
ACCOUNT = "130101000000001"  # the university's demo account (services.demo.execution)
COUNTERPARTIES = ("河北华联商贸有限公司", "石家庄恒信科技有限公司", "中国移动通信集团河北有限公司", "国网河北省电力有限公司",
                  "河北建工集团有限责任公司", "北京京东世纪信息技术有限公司")


def _project(session: Session, org: Org, key: str, name: str, func: str, year: int) -> Project:
    code = f"{org.code}-{key.upper()}"
    p = session.exec(select(Project).where(Project.code == code)).first()
    if p is None:
        p = Project(code=code, name=name, org_id=org.id, category="3", kind="延续", start_year=year - 2,
                    end_year=year + 1, func_code=func, owner="演示数据", status="执行中", description=f"{name}（演示数据）")
        session.add(p)
        session.flush()
    return p


def _spending(rng: random.Random, fen: int, pace: float, months: int) -> list[int]:
    """Monthly spending of a line: the season's shares of `pace` × the amount, ±12 % noise, for `months` months."""
    return [max(0, round(fen * pace * s / 100 * (1 + rng.gauss(0, 0.12)))) for s in SEASON[:months]]


def _year(session: Session, org: Org, year: int, today: date, account: BankAccount | None) -> int:
    """One org's approved budget of `year` and its spending up to last month (all twelve for a past year)."""
    func, basic, projects = UNITS[org.code]
    rng = random.Random(f"{org.code}:{year}")
    growth = 1 + 0.04 * (year - (today.year - 2))
    budget = Budget(org_id=org.id, fiscal_year=year, round="二下", status="已批复", version_no=1)
    session.add(budget)
    session.flush()
    entries = [(None, econ, wan, None) for econ, wan in basic]
    entries += [(_project(session, org, key, name, func, today.year), econ, wan, key)
                for key, name, econ, wan in projects]
    months = 12 if year < today.year else today.month - 1
    rows = 0
    for project, econ, wan, key in entries:
        fen = round(wan * 1_000_000 * growth)
        line = BudgetLine(budget_id=budget.id, project_id=project.id if project else None, econ_code=econ,
                          func_code=func, source="财政拨款", amount=fen, updated_by="演示数据",
                          **dict(zip(MONTHS, money.spread(fen))))
        session.add(line)
        session.flush()
        pace = rng.uniform(0.9, 0.99)
        if year == today.year and (org.code, key) in LAGGARDS:
            pace = LAGGARDS[(org.code, key)] / 100
        if year == today.year and (org.code, econ) == OVERSPENT and project is None:
            pace = 1.25 * 100 / sum(SEASON[:max(months, 1)])  # already beyond the whole line by last month
        for m, amount in enumerate(_spending(rng, fen, pace, months), 1):
            if amount <= 0:
                continue
            day = date(year, m, min(28, 5 + rng.randrange(20)))
            tx_id = None
            if account is not None:
                tx = BankTransaction(account_id=account.id, org_id=account.org_id, bank_ref=f"DEMO-AN-{line.id}-{m}",
                                     booking_date=day, amount=-amount, counterparty=rng.choice(COUNTERPARTIES),
                                     remittance=f"{project.name if project else '日常公用'} {econ} {m}月付款",
                                     match_status="已匹配")
                session.add(tx)
                session.flush()
                tx_id = tx.id
            session.add(Expenditure(budget_line_id=line.id, transaction_id=tx_id, org_id=org.id, amount=amount,
                                    spent_on=day, kind="bank" if tx_id else "manual", note="演示：支出",
                                    matched_by="演示数据"))
            rows += 1
    return rows


def seed(today: date | None = None) -> dict[str, int]:
    """Add each missing (org, year) of the three years; returns {"budgets", "spending"} added (zeros on a rerun)."""
    today = today or datetime.now(CHINA).date()
    year = today.year
    added = {"budgets": 0, "spending": 0}
    with session_scope() as session:
        refdata.load_all(session, [year - 2, year - 1, year])
        account = session.exec(select(BankAccount).where(BankAccount.number == ACCOUNT)).first()
        for code in UNITS:
            org = orgs.by_code(session, code)
            if org is None:
                continue
            for y in (year - 2, year - 1, year):
                if session.exec(select(Budget.id).where(Budget.org_id == org.id, Budget.fiscal_year == y,
                                                        Budget.seq == 0)).first():
                    continue
                bank = account if account is not None and code.startswith("DEMO-U01") and y == year else None
                added["spending"] += _year(session, org, y, today, bank)
                added["budgets"] += 1
        if added["budgets"]:
            data_version.bump(session)
            audit.record(session, "demo.seed", detail="载入数据分析演示数据（三年预算与支出）", after=added)
    return added
