"""Bank statements into BankTransaction rows: idempotent (unique on account + bank reference), a reversal
cancels its original, pending entries are promoted when they book (and then go the way of a new booked row).
Runs inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from hbbudget.clock import now
from hbbudget.integrations.bank.records import Entry, Statement, exponent
from hbbudget.models import BankAccount, BankTransaction, Budget, BudgetLine, Expenditure
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext

CHUNK = 500


@dataclass
class IngestResult:
    new: int = 0
    duplicates: int = 0
    promoted: int = 0
    reversals: int = 0
    reconciles: bool | None = None  # False when any statement's balances do not add up
    new_ids: tuple[int, ...] = ()
    promoted_ids: tuple[int, ...] = ()  # pending rows booked now

    @property
    def booked_ids(self) -> tuple[int, ...]:
        """The rows that are new or were promoted now: what matching looks at."""
        return self.new_ids + self.promoted_ids

    def as_dict(self) -> dict:
        return {"new": self.new, "duplicates": self.duplicates, "promoted": self.promoted,
                "reversals": self.reversals, "reconciles": self.reconciles}


def to_fen(amount: Decimal, currency: str) -> int:
    """Minor units of the account currency; an amount with more digits is refused."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"金额 {amount} 超出 {currency} 的最小单位")
    return int(scaled)


def _same_account(statement: Statement, account: BankAccount) -> bool:
    return statement.account.replace(" ", "") == account.number.replace(" ", "")


def _existing(session: Session, account_id: int, refs: list[str]) -> dict[str, tuple[int, str, bool]]:
    """bank_ref → (id, status, reversal) of the rows already stored (plain tuples: cheap for big batches)."""
    t = BankTransaction
    found: dict[str, tuple[int, str, bool]] = {}
    for i in range(0, len(refs), CHUNK):
        rows = session.exec(select(t.bank_ref, t.id, t.status, t.reversal)
                            .where(t.account_id == account_id, t.bank_ref.in_(refs[i:i + CHUNK]))).all()
        found.update({ref: (id_, status, reversal) for ref, id_, status, reversal in rows})
    return found


_COLUMNS = ("account_id", "org_id", "bank_ref", "booking_date", "amount", "currency", "status", "reversal",
            "cancelled", "counterparty", "counterparty_account", "remittance", "match_status", "created_at")


def _insert(session: Session, account: BankAccount, entries: list[Entry]) -> dict[str, int]:
    """Store new rows with one executemany straight to the driver, then read their ids back by ref.
    SQLAlchemy's per-row parameter processing was half of the ingest time; the few values that need a type
    conversion (dates, booleans, the aware timestamp) go through the column types' own bind processors."""
    connection = session.connection()
    dialect = connection.dialect
    table = BankTransaction.__table__

    def conv(name: str):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        return process or (lambda value: value)

    day, flag = conv("booking_date"), conv("reversal")
    false, true, stamp = flag(False), flag(True), conv("created_at")(now())  # one arrival time for the batch
    account_id, org_id, currency = account.id, account.org_id, account.currency
    rows = []
    for e in entries:
        if e.currency != currency:
            raise ValidationError(f"交易 {e.ref} 的币种 {e.currency} 与账户币种 {currency} 不符")
        amount = to_fen(e.amount, currency)
        rows.append((account_id, org_id, e.ref[:80], day(e.booking_date), amount, currency, e.status[:8],
                     true if e.reversal else false, false, e.counterparty[:140], e.counterparty_account[:64],
                     e.remittance[:500], _match_status(e.status == "BOOK", amount, e.reversal), stamp))
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(_COLUMNS))})")
    connection.exec_driver_sql(sql, rows)
    stored = _existing(session, account_id, [row[2] for row in rows])
    return {ref: found[0] for ref, found in stored.items()}


def _match_status(booked: bool, amount: int, reversal: bool) -> str:
    if not booked:
        return "未入账"
    return "待匹配" if amount < 0 and not reversal else "无需匹配"


def ingest(session: Session, account: BankAccount, statements: list[Statement], source: str = "",
           actor: UserContext | None = None, *, record: bool = True) -> IngestResult:
    """Store what is new, book what was pending; count what was seen before. Refuses a statement for another
    account. A row booked now, new or promoted from pending, takes the same path: a reversal cancels its
    original, and its id is in `booked_ids` for matching. `actor` names the user who asked (立即同步). With
    `record=False` the caller writes the audit entry (a bank poll: one entry per run, not one per page)."""
    result = IngestResult()
    entries: dict[str, Entry] = {}
    for statement in statements:
        if not _same_account(statement, account):
            raise ValidationError(f"对账单账号 {statement.account} 与账户 {account.number} 不符")
        if statement.reconciles is False:
            result.reconciles = False
        elif statement.reconciles and result.reconciles is None:
            result.reconciles = True
        result.duplicates += statement.duplicates
        for entry in statement.entries:
            ref = entry.ref[:80]
            seen = entries.get(ref)
            if seen is None:
                entries[ref] = entry
            else:
                result.duplicates += 1
                if entry.status == "BOOK" and seen.status != "BOOK":  # e.g. a camt.052 and a camt.053: booked wins
                    entries[ref] = entry
    existing = _existing(session, account.id, list(entries))
    fresh, promoted, reversals = [], {}, []
    for ref, entry in entries.items():
        old = existing.get(ref)
        if old is None:
            fresh.append(entry)
        elif old[1] != "BOOK" and entry.status == "BOOK":
            tx = session.get(BankTransaction, old[0])
            if entry.currency != account.currency:
                raise ValidationError(f"交易 {entry.ref} 的币种 {entry.currency} 与账户币种 {account.currency} 不符")
            tx.status, tx.booking_date = "BOOK", entry.booking_date or tx.booking_date
            tx.amount = to_fen(entry.amount, account.currency)  # the booked amount wins over the pending one
            tx.match_status = _match_status(True, tx.amount, tx.reversal)
            session.add(tx)
            promoted[ref] = tx.id
        else:
            result.duplicates += 1
            continue
        if entry.reversal and entry.status == "BOOK":
            reversals.append((ref, entry))  # in statement order
    result.promoted = len(promoted)
    result.promoted_ids = tuple(sorted(promoted.values()))
    ids = promoted
    if fresh:
        ids = _insert(session, account, fresh)
        result.new = len(ids)
        result.new_ids = tuple(sorted(ids.values()))
        ids.update(promoted)
    for ref, entry in reversals:
        tx = session.get(BankTransaction, ids[ref])
        result.reversals += _cancel_original(session, tx, entry.reversal_of)
    if record and (result.new or result.promoted):
        audit.record(session, "bank.ingest", actor=actor, object_type="bank_account", object_id=account.id,
                     org_id=account.org_id, detail=source[:200], after=result.as_dict())
    return result


def _cancel_original(session: Session, reversal: BankTransaction, reversal_of: str | None) -> int:
    """Find what `reversal` reverses (by the bank's link, else same amount opposite sign and counterparty)."""
    query = select(BankTransaction).where(BankTransaction.account_id == reversal.account_id,
                                          BankTransaction.cancelled == False,  # noqa: E712
                                          BankTransaction.reversal == False,  # noqa: E712
                                          BankTransaction.id != reversal.id)
    if reversal_of:
        query = query.where(BankTransaction.bank_ref == reversal_of)
    else:
        query = query.where(BankTransaction.amount == -reversal.amount,
                            BankTransaction.counterparty == reversal.counterparty)
        if reversal.booking_date:
            query = query.where(BankTransaction.booking_date <= reversal.booking_date)
    original = session.exec(query.order_by(BankTransaction.booking_date.desc(), BankTransaction.id.desc())).first()
    if original is None:
        return 0
    original.cancelled = reversal.cancelled = True
    original.match_status = reversal.match_status = "已冲销"
    reversal.reverses_id = original.id
    year = (reversal.booking_date or original.booking_date or now().date()).year
    for spent in session.exec(select(Expenditure).where(Expenditure.transaction_id == original.id)).all():
        if spent.spent_on.year == year:
            session.delete(spent)  # the money came back within the year: the line is no longer charged
        elif spent.kind == "bank" and not _book_in_reversal_year(session, spent, reversal, year):
            reversal.match_status = "待处理"  # no line of this year to credit: a person decides
    session.add(original)
    session.add(reversal)
    return 1


def _book_in_reversal_year(session: Session, spent: Expenditure, reversal: BankTransaction, year: int) -> bool:
    """A payment of an earlier (closed) year reversed now: that year's spending stays as it was; the money
    coming back is booked in the period of the reversal, as a negative amount on the line with the same key
    (project, economic, function code, source) in the org's current approved budget of the reversal's year.
    False when there is no such line (docs/architecture.md, "Money rules")."""
    old = session.get(BudgetLine, spent.budget_line_id)
    current = session.exec(select(BudgetLine).join(Budget, Budget.id == BudgetLine.budget_id).where(
        Budget.org_id == spent.org_id, Budget.fiscal_year == year, Budget.status == "已批复",
        Budget.superseded_by_id.is_(None), BudgetLine.project_id == old.project_id,
        BudgetLine.econ_code == old.econ_code, BudgetLine.func_code == old.func_code,
        BudgetLine.source == old.source)).first() if old else None
    if current is None:
        return False
    session.add(Expenditure(budget_line_id=current.id, transaction_id=reversal.id, org_id=spent.org_id,
                            amount=-spent.amount, spent_on=reversal.booking_date or now().date(), kind="bank",
                            note=f"冲销 {spent.spent_on.year} 年付款 #{spent.transaction_id}"[:200],
                            matched_by="自动:跨年冲销"))
    return True
