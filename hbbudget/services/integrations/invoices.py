"""E-invoices attached to a payment (a bank transaction going out) or a manual expenditure.

- Upload: OFD / invoice XML / XBRL are parsed (integrations/invoice); a PDF is kept as the attachment with the
  fields typed by hand. At most HBB_MAX_UPLOAD_BYTES.
- The invoices of one payment may not add up to more than the payment.
- Never twice: Invoice.key is unique across all orgs and years; a second attach is refused naming where the
  invoice is used (the org's name only when the user may see that org). Two concurrent attaches: the unique
  constraint lets one win, the other gets the same refusal.
- Verification (发票查验) over HTTP stores the platform's answer and its time; an invoice the platform reports as
  作废 or 红冲 raises an alert (kind "invoice") in the 预警中心, once per invoice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hbbudget import money, routes
from hbbudget.clock import now, to_local_text
from hbbudget.db import session_scope
from hbbudget.integrations.invoice import client
from hbbudget.integrations.invoice.parse import parse_invoice
from hbbudget.integrations.invoice.records import InvoiceFormatError, build
from hbbudget.models import BankTransaction, ExecAlert, Expenditure, Invoice, Org
from hbbudget.services.core import audit
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.execution import alerts
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.services.security.scope import int_id, text
from hbbudget.settings import get_settings

TARGETS = {"transaction": "付款", "expenditure": "手工支出"}
BAD_STATUSES = ("作废", "红冲")
MANUAL_FIELDS = {"code": "发票代码", "number": "发票号码", "date": "开票日期", "amount": "金额", "tax": "税额",
                 "total": "价税合计", "seller_name": "销售方名称", "seller_tax_id": "销售方纳税人识别号",
                 "buyer_name": "购买方名称", "buyer_tax_id": "购买方纳税人识别号"}
alerts.KINDS.update({"invoice": "发票作废/红冲"})


class DuplicateInvoice(ValidationError):
    """The invoice is already attached somewhere."""


def read_file(file_name: str, data: bytes, manual: dict | None = None) -> tuple[object, str]:
    """(parsed invoice, source format): a PDF needs the typed fields in `manual`."""
    limit = get_settings().max_upload_bytes
    if len(data) > limit:
        raise ValidationError(f"文件过大：{len(data)} 字节，上限 {limit} 字节")
    if data[:5] == b"%PDF-":
        fields = {k: text((manual or {}).get(k, ""), label, 140) for k, label in MANUAL_FIELDS.items()}
        try:
            return build(fields, [], kind="电子发票（PDF）", source_format="manual"), "manual"
        except InvoiceFormatError as exc:
            raise ValidationError(f"PDF 发票须手工填写发票信息：{exc}") from None
    try:
        inv = parse_invoice(data, limit)
    except InvoiceFormatError as exc:
        raise ValidationError(f"发票文件无法读取：{exc}") from None
    return inv, inv.source_format


def _target(session: Session, ctx: UserContext, target_type: str, target_id: int) -> tuple[int, Org, date]:
    """(payment amount in fen, org, day) of the payment or manual expenditure, locked and scope-checked."""
    model = {"transaction": BankTransaction, "expenditure": Expenditure}.get(target_type)
    if model is None:
        raise ValidationError("只能关联到付款或手工支出")
    row = session.exec(select(model).where(model.id == target_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"{TARGETS[target_type]}不存在")
    org = session.get(Org, row.org_id)
    if not ctx.can("execution.match", org.path):
        raise PermissionDenied(f"没有权限：不能给{org.name}的{TARGETS[target_type]}关联发票")
    if target_type == "transaction":
        if row.amount >= 0 or row.cancelled:
            raise ValidationError("只有未冲正的付款可以关联发票")
        return -row.amount, org, row.booking_date or row.created_at.date()
    if row.kind != "manual":
        raise ValidationError("只有手工支出可以关联发票（银行付款请在付款上关联）")
    return row.amount, org, row.spent_on


def where_used(session: Session, ctx: UserContext, inv: Invoice) -> str:
    org = session.get(Org, inv.org_id)
    who = org.name if org is not None and ctx.can("execution.view", org.path) else "其他单位"
    if inv.transaction_id is not None:
        tx = session.get(BankTransaction, inv.transaction_id)
        day = tx.booking_date.isoformat() if tx and tx.booking_date else ""
        return f"{who} {day} 的付款（交易编号 {inv.transaction_id}）"
    return f"{who} 的手工支出（支出编号 {inv.expenditure_id}）"


def _duplicate(session: Session, ctx: UserContext, key: str) -> DuplicateInvoice | None:
    inv = session.exec(select(Invoice).where(Invoice.key == key)).first()
    if inv is None:
        return None
    return DuplicateInvoice(f"该发票（{key}）已报销过，不能重复使用：已关联到{where_used(session, ctx, inv)}")


def attach(ctx: UserContext, target_type: object, target_id: object, file_name: object, data: bytes,
           manual: dict | None = None) -> dict:
    kind = str(target_type)
    tid = int_id(target_id, TARGETS.get(kind, "对象"))
    name = text(file_name, "文件名", 200)
    parsed, source = read_file(name, data, manual)
    try:
        with session_scope() as session:
            paid, org, _day = _target(session, ctx, kind, tid)
            column = Invoice.transaction_id if kind == "transaction" else Invoice.expenditure_id
            if (duplicate := _duplicate(session, ctx, parsed.key)) is not None:
                raise duplicate
            if parsed.total <= 0:
                raise ValidationError("价税合计须大于零：红字（负数）发票不能作为报销凭证")
            total = money.parse_yuan(str(parsed.total), "价税合计")
            before = session.exec(select(func.coalesce(func.sum(Invoice.total), 0)).where(column == tid)).one()
            if before + total > paid:
                raise ValidationError(f"发票金额合计 {money.fmt(before + total)} 超过{TARGETS[kind]}金额 "
                                      f"{money.fmt(paid)}")
            inv = Invoice(key=parsed.key, org_id=org.id, kind=parsed.kind[:40], code=parsed.code,
                          number=parsed.number, issued_on=parsed.date, seller_name=parsed.seller_name[:140],
                          seller_tax_id=parsed.seller_tax_id[:32], buyer_name=parsed.buyer_name[:140],
                          buyer_tax_id=parsed.buyer_tax_id[:32], amount=money.parse_yuan(str(parsed.amount)),
                          tax=money.parse_yuan(str(parsed.tax)), total=total, source_format=source[:24],
                          file_name=name, content=data, created_by=ctx.username,
                          **{column.key: tid})
            session.add(inv)
            session.flush()
            audit.record(session, "invoice.attach", actor=ctx, object_type="invoice", object_id=inv.id,
                         org_id=org.id, detail=f"{TARGETS[kind]} {tid} 关联发票 {parsed.key}",
                         after={"key": parsed.key, "total": total, "target": kind, "target_id": tid})
            return {"id": inv.id, "key": inv.key, "total": money.fmt(total)}
    except IntegrityError:  # a concurrent attach of the same invoice committed first
        with session_scope() as session:
            duplicate = _duplicate(session, ctx, parsed.key)
        raise duplicate or ValidationError("发票保存失败，请重试") from None


def list_for(ctx: UserContext, target_type: object, target_id: object) -> list[dict]:
    kind = str(target_type)
    tid = int_id(target_id, TARGETS.get(kind, "对象"))
    with session_scope() as session:
        _paid, _org, _day = _target(session, ctx, kind, tid)
        column = Invoice.transaction_id if kind == "transaction" else Invoice.expenditure_id
        rows = session.exec(select(Invoice).where(column == tid).order_by(Invoice.id)).all()
        return [_row(i) for i in rows]


def _row(i: Invoice) -> dict:
    return {"id": i.id, "key": i.key, "kind": i.kind, "number": i.number, "code": i.code,
            "date": i.issued_on.isoformat(), "seller_name": i.seller_name, "total": money.fmt(i.total),
            "verify_status": i.verify_status or "未查验",
            "verified_at": to_local_text(i.verified_at) if i.verified_at else ""}


def verify(ctx: UserContext, invoice_id: object) -> dict:
    """Ask the platform about one invoice the user may match for; store the answer and its time."""
    iid = int_id(invoice_id, "发票")
    with session_scope() as session:
        inv = session.get(Invoice, iid)
        if inv is None:
            raise NotFound("发票不存在")
        org = session.get(Org, inv.org_id)
        if not ctx.can("execution.match", org.path):
            raise PermissionDenied(f"没有权限：不能查验{org.name}的发票")
    return _verify_one(iid, ctx.username, actor=ctx)


def recheck(limit: int = 500) -> dict[str, int]:
    """A job: verify again the invoices last found 正常 (or never checked); flag 作废 / 红冲 in the 预警中心."""
    with session_scope() as session:
        ids = session.exec(select(Invoice.id).where(Invoice.verify_status.in_(("", "正常", "查验失败")))
                           .order_by(Invoice.verified_at.is_not(None), Invoice.verified_at).limit(limit)).all()
    counts = {"checked": 0, "flagged": 0, "failed": 0}
    for iid in ids:
        result = _verify_one(iid, alerts.SYSTEM)
        counts["checked"] += 1
        counts["flagged"] += result["status"] in BAD_STATUSES
        counts["failed"] += result["status"] == "查验失败"
    return counts


def _verify_one(iid: int, who: str, actor: UserContext | None = None) -> dict:
    with session_scope() as session:
        inv = session.get(Invoice, iid)
        args = (inv.code, inv.number, inv.issued_on.isoformat(), money.yuan_text(inv.total))
    settings = get_settings()
    error = ""
    try:
        status = client.verify(settings.invoice_url, *args, timeout=settings.invoice_timeout_seconds)
    except client.InvoiceError as exc:
        status, error = "查验失败", str(exc)
    with session_scope() as session:
        inv = session.get(Invoice, iid)
        inv.verify_status, inv.verified_at = status, now()
        session.add(inv)
        if status in BAD_STATUSES:
            _flag(session, inv, status)
        audit.record(session, "invoice.verify", actor=actor, username="" if actor else who, object_type="invoice",
                     object_id=iid, org_id=inv.org_id, success=not error,
                     detail=f"发票 {inv.key} 查验结果：{status}{('（' + error + '）') if error else ''}")
        return {"id": iid, "status": status, "error": error, "verified_at": to_local_text(inv.verified_at)}


def _flag(session: Session, inv: Invoice, status: str) -> None:
    key = f"invoice:invoice:{inv.id}:"
    if session.exec(select(ExecAlert.id).where(ExecAlert.dedupe_key == key)).first() is not None:
        return
    target = f"交易 {inv.transaction_id}" if inv.transaction_id else f"手工支出 {inv.expenditure_id}"
    session.add(ExecAlert(org_id=inv.org_id, kind="invoice", subject_type="invoice", subject_id=inv.id,
                          dedupe_key=key, title=f"已报销发票{status}：{inv.key}",
                          detail=f"{target} 关联的发票（价税合计 {money.fmt(inv.total)}，销售方 {inv.seller_name}）"
                                 f"经查验平台确认已{status}",
                          link=routes.EXEC_ALERTS))


def targets(ctx: UserContext, limit: int = 100) -> list[dict]:
    """What the page offers to attach invoices to: recent payments out (not reversed) and manual expenditures
    of the orgs where the user may match, newest first; value is "transaction:ID" or "expenditure:ID"."""
    with session_scope() as session:
        txs = session.exec(
            select(BankTransaction, Org).join(Org, Org.id == BankTransaction.org_id)
            .where(scope.org_condition(ctx, "execution.match", BankTransaction.org_id), BankTransaction.amount < 0,
                   BankTransaction.cancelled == False)  # noqa: E712 - SQL comparison
            .order_by(BankTransaction.booking_date.desc(), BankTransaction.id.desc()).limit(limit)).all()
        spent = session.exec(
            select(Expenditure, Org).join(Org, Org.id == Expenditure.org_id)
            .where(scope.org_condition(ctx, "execution.match", Expenditure.org_id), Expenditure.kind == "manual")
            .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()).limit(limit)).all()
    rows = [{"value": f"transaction:{t.id}", "label": f"付款 {t.booking_date or ''} {money.fmt(-t.amount)} "
             f"{t.counterparty} · {o.name}"[:120]} for t, o in txs]
    rows += [{"value": f"expenditure:{e.id}", "label": f"手工支出 {e.spent_on} {money.fmt(e.amount)} {e.note} · "
              f"{o.name}"[:120]} for e, o in spent]
    return rows


def recent(ctx: UserContext, limit: int = 100) -> list[dict]:
    """The latest invoices of the orgs the user may view, with the org's name."""
    with session_scope() as session:
        rows = session.exec(select(Invoice, Org).join(Org, Org.id == Invoice.org_id)
                            .where(scope.org_condition(ctx, "execution.view", Invoice.org_id))
                            .order_by(Invoice.id.desc()).limit(limit)).all()
        return [{**_row(i), "org_name": o.name,
                 "target": f"付款 {i.transaction_id}" if i.transaction_id else f"手工支出 {i.expenditure_id}"}
                for i, o in rows]
