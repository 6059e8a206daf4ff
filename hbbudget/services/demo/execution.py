"""Execution demo data: bank accounts of 河北示范大学 and the 示范医院 that the bank simulator serves
(`hbbudget sim --demo`, started by `make run`), the project codes its payments mention, and two 手工
对方户名 rules for counterparties the simulator pays (so the demo shows such automatic matches). Idempotent."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from hbbudget import clock, money
from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import BankAccount, BankTransaction, Budget, BudgetLine, CounterpartyRule, Expenditure, Project
from hbbudget.models.budget import MONTHS
from hbbudget.services.core import audit, data_version, orgs
from hbbudget.services.execution import counterparty_rules

# number, name, org code, API format (json: paged detail API; camt: camt.053 statements), bank
ACCOUNTS = (
    ("130101000000001", "河北示范大学基本户", "DEMO-U01", "json", "中国工商银行石家庄裕华支行"),
    ("130102000000002", "石家庄市示范医院基本户", "DEMO-H01", "camt", "中国建设银行石家庄建华支行"),
)
PROJECT_ORG = "DEMO-U01-01"  # the college whose approved budget the demo payments are charged to


# counterparty, remittance, 元: payments the rules could not place, waiting in 待匹配 for more than a week
WAITING = (("石家庄华北办公用品有限公司", "办公用品采购", "3860.00"), ("河北省机关印刷厂", "印刷费", "12400.00"),
           ("石家庄京铁旅行服务有限公司", "差旅费报销", "2318.50"))


# counterparty (as hbbudget.sim.bank pays it) → the college's project with one approved line, for the university
RULES = (("河北智联科技服务有限公司", "智慧教室改造"), ("唐山冀东仪器设备有限公司", "智慧教室改造"))
RULE_ORG = "DEMO-U01"


def _on_current_budget(org_id: int):
    """WHERE clause: projects with a line in the org's current approved budget."""
    return Project.id.in_(select(BudgetLine.project_id).join(Budget, Budget.id == BudgetLine.budget_id)
                          .where(Budget.org_id == org_id, Budget.fiscal_year == current_fiscal_year(),
                                 Budget.status == "已批复", Budget.superseded_by_id.is_(None)))


def _rules(session: Session) -> int:
    """The 手工 对方户名 rules of RULES that are missing."""
    org, college = orgs.by_code(session, RULE_ORG), orgs.by_code(session, PROJECT_ORG)
    if org is None or college is None:
        return 0
    added = 0
    for raw, project_name in RULES:
        name = counterparty_rules.normalize(raw)
        if session.exec(select(CounterpartyRule.id).where(CounterpartyRule.org_id == org.id,
                                                          CounterpartyRule.counterparty == name)).first():
            continue
        project = session.exec(select(Project).where(_on_current_budget(college.id),
                                                     Project.name == project_name)).first()
        if project is not None:
            session.add(CounterpartyRule(org_id=org.id, counterparty=name, project_id=project.id, source="手工",
                                         created_by="演示数据"))
            added += 1
    return added


def _history(session: Session, today: date) -> int:
    """Spending of the past months on the college's lines (80–98 % of each month's plan), once."""
    org = orgs.by_code(session, PROJECT_ORG)
    if org is None or session.exec(select(Expenditure.id).where(Expenditure.org_id == org.id)).first():
        return 0
    lines = session.exec(select(BudgetLine).join(Budget, Budget.id == BudgetLine.budget_id)
                         .where(Budget.org_id == org.id, Budget.fiscal_year == today.year, Budget.status == "已批复",
                                Budget.superseded_by_id.is_(None))).all()
    rows = [Expenditure(budget_line_id=line.id, org_id=org.id, spent_on=date(today.year, m, 15), kind="manual",
                        amount=getattr(line, MONTHS[m - 1]) * (80 + (line.id * 7 + m * 5) % 19) // 100,
                        note="演示：历史支出", matched_by="演示数据")
            for line in lines for m in range(1, today.month)]
    session.add_all(r for r in rows if r.amount > 0)
    return len(rows)


def _waiting(session: Session, account: BankAccount, today: date) -> int:
    if session.exec(select(BankTransaction.id).where(BankTransaction.account_id == account.id)).first():
        return 0
    session.add_all(BankTransaction(account_id=account.id, org_id=account.org_id, bank_ref=f"DEMO-HIST-{i}",
                                    booking_date=today - timedelta(days=9 + 3 * i), amount=-money.parse_yuan(amount),
                                    counterparty=name, remittance=purpose)
                    for i, (name, purpose, amount) in enumerate(WAITING, 1))
    return len(WAITING)


def seed() -> int:
    """Add the missing demo accounts (and, once, past spending and a few old unmatched payments)."""
    added = waiting = 0
    today = clock.today()
    with session_scope() as session:
        for number, name, org_code, api_format, bank in ACCOUNTS:
            org = orgs.by_code(session, org_code)
            if org is None or session.exec(select(BankAccount.id).where(BankAccount.number == number)).first():
                continue
            account = BankAccount(org_id=org.id, number=number, name=name, bank_name=bank, api_format=api_format)
            session.add(account)
            session.flush()
            added += 1
            waiting += _waiting(session, account, today) if org_code == "DEMO-U01" else 0
        if added:
            history = _history(session, today)
            data_version.bump(session)
            audit.record(session, "demo.seed", detail="载入预算执行演示数据",
                         after={"bank_accounts": added, "history": history, "waiting": waiting})
        rules = _rules(session)
        if rules:
            audit.record(session, "demo.seed", detail="载入对方户名规则演示数据", after={"counterparty_rules": rules})
    return added


def project_codes() -> list[str]:
    """Codes of the projects on the college's current approved budget (the simulator puts them in remittances)."""
    with session_scope() as session:
        org = orgs.by_code(session, PROJECT_ORG)
        if org is None:
            return []
        rows = session.exec(select(Project.code).where(_on_current_budget(org.id))).all()
    return sorted(rows)


def sim_accounts() -> list[dict]:
    return [{"number": number, "name": name} for number, name, *_ in ACCOUNTS]
