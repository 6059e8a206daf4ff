"""指标库: the indicator library by fiscal year. The shipped common library (refdata/performance_indicators.csv,
org_id None) is loaded by init-db and edited only by a holder of performance.library at the root; an org's own
indicators are edited at that org and seen in its subtree."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, or_
from sqlmodel import Session, select

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import Org, PerfIndicator
from hbbudget.services.core import audit, xlsx
from hbbudget.services.core.orgs import scope_filter
from hbbudget.services.errors import NotFound, PermissionDenied, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

DATA_FILE = Path(__file__).resolve().parents[2] / "refdata" / "performance_indicators.csv"
LEVELS: dict[str, tuple[str, ...]] = {
    "产出": ("数量", "质量", "时效"),
    "成本": ("经济成本", "社会成本", "生态环境成本"),
    "效益": ("经济效益", "社会效益", "生态效益", "可持续影响"),
    "满意度": ("服务对象满意度",),
}
DIRECTIONS = ("≥", "≤", "=", "定性")
INDUSTRIES = ("通用", "教育", "卫生健康", "农林水", "交通运输", "科学技术", "社会保障和就业", "城乡社区",
              "一般公共服务", "文化旅游体育", "节能环保", "公共安全")
# a project's industry from its 功能分类 类 (the first three digits of func_code), in the library's words
INDUSTRY_BY_CLASS = {"201": "一般公共服务", "204": "公共安全", "205": "教育", "206": "科学技术", "207": "文化旅游体育",
                     "208": "社会保障和就业", "210": "卫生健康", "211": "节能环保", "212": "城乡社区", "213": "农林水",
                     "214": "交通运输"}
OTHER_INDUSTRY = "其他"


def industry_of(func_code: str | None) -> str:
    """教育 for 2050205; 其他 for a class outside the library's industries or no code."""
    return INDUSTRY_BY_CLASS.get((func_code or "")[:3], OTHER_INDUSTRY)


# xlsx / csv column -> field (the export writes these headers, the import reads them)
COLUMNS = {"编码": "code", "一级指标": "level1", "二级指标": "level2", "三级指标": "name", "计量单位": "unit",
           "方向": "direction", "默认目标值": "default_target", "适用行业": "industries",
           "适用项目类别": "categories", "评价指引": "guidance", "来源": "source"}
LIMITS = {"code": 16, "name": 64, "unit": 16, "default_target": 32, "industries": 128, "categories": 64,
          "guidance": 500, "source": 32}
MAX_ROWS = 5000
PAGE = 50



def _csv_rows() -> list[dict[str, str]]:
    with open(DATA_FILE, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def load_shipped(session: Session, year: int) -> int:
    """Add the shipped common indicators missing from `year` (by code); existing rows are left as edited."""
    have = set(session.exec(select(PerfIndicator.code).where(PerfIndicator.fiscal_year == year)).all())
    new = [PerfIndicator(fiscal_year=year, **r) for r in _csv_rows() if r["code"] not in have]
    session.add_all(new)
    return len(new)


# ---- validation ----

def clean(row: dict, label: str = "") -> dict:
    """One indicator's fields checked and trimmed; a ValidationError names the field (and row)."""
    out = {k: scope.text(row.get(k), label + name, LIMITS.get(k, 16)) for name, k in COLUMNS.items()}
    if not out["name"]:
        raise ValidationError(f"{label}三级指标不能为空")
    if out["level1"] not in LEVELS:
        raise ValidationError(f"{label}一级指标须为：{'、'.join(LEVELS)}")
    if out["level2"] not in LEVELS[out["level1"]]:
        raise ValidationError(f"{label}二级指标须为：{'、'.join(LEVELS[out['level1']])}")
    if out["direction"] not in DIRECTIONS:
        raise ValidationError(f"{label}方向须为：{'、'.join(DIRECTIONS)}")
    unknown = [i for i in _split(out["industries"]) if i not in INDUSTRIES]
    if unknown or not out["industries"]:
        raise ValidationError(f"{label}适用行业须为：{'、'.join(INDUSTRIES)} 中的一个或多个")
    out["industries"] = "、".join(_split(out["industries"]))
    if out["direction"] != "定性" and out["default_target"]:
        from hbbudget.services.performance.scoring import number

        if number(out["default_target"]) is None:
            raise ValidationError(f"{label}默认目标值须为数字（定量指标）")
    if out["code"] and not out["code"].replace("-", "").isalnum():
        raise ValidationError(f"{label}编码只能含字母、数字和“-”")
    return out


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace(",", "、").replace("，", "、").split("、") if p.strip()]


# ---- scope ----

def _visible(ctx: UserContext):
    """WHERE clause: the common library, the orgs in the viewer's scope and the orgs above each grant."""
    paths = ctx.scope_paths("performance.view")
    if not paths:
        raise PermissionDenied("没有权限：查看绩效")
    above = {int(x) for p, _ in paths for x in p.strip("/").split("/") if x}
    return or_(PerfIndicator.org_id.is_(None), PerfIndicator.org_id.in_(above),
               PerfIndicator.org_id.in_(select(Org.id).where(scope_filter(paths))))


def _require_edit(session: Session, ctx: UserContext, org_id: int | None) -> Org | None:
    if org_id is None:
        scope.require_global(ctx, "performance.library")
        return None
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound("单位不存在")
    scope.require(ctx, "performance.library", org)
    return org


def owner_choices(ctx: UserContext) -> list[tuple[str, str]]:
    """Where the caller may add indicators: ("0", 通用指标库) at the root, else the orgs of their grants."""
    out = [("0", "省级通用指标库")] if scope.has_global(ctx, "performance.library") else []
    with session_scope() as session:
        for path, _ in ctx.scope_paths("performance.library"):
            org_id = int(path.strip("/").split("/")[-1])
            org = session.get(Org, org_id)
            if org is not None:
                out.append((str(org.id), org.name))
    return list(dict.fromkeys(out))


# ---- reading ----

def _row(i: PerfIndicator, names: dict[int, str]) -> dict:
    return {"id": i.id, "code": i.code, "level1": i.level1, "level2": i.level2, "name": i.name, "unit": i.unit,
            "direction": i.direction, "default_target": i.default_target, "industries": i.industries,
            "categories": i.categories, "guidance": i.guidance, "source": i.source, "retired": i.retired,
            "org_id": i.org_id or 0, "owner": names.get(i.org_id, "省级通用") if i.org_id else "省级通用"}


def _filtered(ctx: UserContext, year: int, search: str = "", industry: str = "", level1: str = "",
              retired: bool = False):
    q = select(PerfIndicator).where(PerfIndicator.fiscal_year == year, _visible(ctx))
    if not retired:
        q = q.where(PerfIndicator.retired.is_(False))
    if search:
        like = f"%{search}%"
        q = q.where(or_(PerfIndicator.name.like(like), PerfIndicator.code.like(like)))
    if industry:
        q = q.where(or_(PerfIndicator.industries.like(f"%{industry}%"), PerfIndicator.industries == "通用"))
    if level1:
        q = q.where(PerfIndicator.level1 == level1)
    return q


def list_indicators(ctx: UserContext, year: int, search: str = "", industry: str = "", level1: str = "",
                    offset: int = 0, limit: int = PAGE, retired: bool = False) -> tuple[list[dict], int]:
    year = scope.year(year)
    offset, limit = scope.page(offset, limit)
    search = scope.text(search, "查询", 64)
    with session_scope() as session:
        q = _filtered(ctx, year, search, industry, level1, retired)
        total = session.exec(select(func.count()).select_from(q.subquery())).one()
        rows = session.exec(q.order_by(PerfIndicator.code).offset(offset).limit(limit)).all()
        names = _org_names(session, {r.org_id for r in rows if r.org_id})
        return [_row(r, names) for r in rows], total


def get_visible(session: Session, ctx: UserContext, indicator_id: int) -> PerfIndicator:
    row = session.exec(select(PerfIndicator).where(PerfIndicator.id == indicator_id, _visible(ctx))).first()
    if row is None:
        if session.get(PerfIndicator, indicator_id) is not None:
            raise PermissionDenied("没有权限：该指标不在您的可见范围内")
        raise NotFound("指标不存在")
    return row


def _org_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(Org.id, Org.name).where(Org.id.in_(ids))).all())


def years(session: Session) -> list[int]:
    return sorted(session.exec(select(PerfIndicator.fiscal_year).distinct()).all())


# ---- writing ----

def _next_code(session: Session, year: int, org_id: int) -> str:
    prefix = f"D{org_id}-"
    codes = session.exec(select(PerfIndicator.code).where(PerfIndicator.fiscal_year == year,
                                                          PerfIndicator.code.like(prefix + "%"))).all()
    seq = max([int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()] or [0]) + 1
    return f"{prefix}{seq:03d}"


def save_indicator(ctx: UserContext, year: int, owner_id: object, data: dict,
                   indicator_id: int | None = None) -> dict:
    """Add (indicator_id None) or edit one indicator of `year`; owner 0 = the common library."""
    year = scope.year(year)
    fields = clean(data if isinstance(data, dict) else {})
    with session_scope() as session:
        if indicator_id:
            row = session.get(PerfIndicator, scope.int_id(indicator_id, "指标"))
            if row is None or row.fiscal_year != year:
                raise NotFound("指标不存在")
            org = _require_edit(session, ctx, row.org_id)
            before = _row(row, {})
            fields["code"] = row.code  # the code is the key: never changed
        else:
            owner = scope.opt_id(owner_id, "所属单位")
            org = _require_edit(session, ctx, owner)
            if not fields["code"]:
                if owner is None:
                    raise ValidationError("通用指标须填写编码")
                fields["code"] = _next_code(session, year, owner)
            elif owner is not None and not fields["code"].startswith(f"D{owner}-"):
                raise ValidationError(f"本单位指标的编码须以 D{owner}- 开头（或留空自动编号）")
            if session.exec(select(PerfIndicator.id).where(PerfIndicator.fiscal_year == year,
                                                           PerfIndicator.code == fields["code"])).first():
                raise ValidationError(f"编码 {fields['code']} 在 {year} 年度已存在")
            row, before = PerfIndicator(fiscal_year=year, org_id=owner, code=fields["code"]), None
        for k, v in fields.items():
            setattr(row, k, v)
        row.updated_at = now()
        session.add(row)
        session.flush()
        audit.record(session, "indicator.save", actor=ctx, object_type="indicator", object_id=row.id,
                     org_id=org.id if org else None, detail=f"{row.code} {row.name}", before=before,
                     after=_row(row, {}))
        return _row(row, {})


def set_retired(ctx: UserContext, indicator_id: int, retired: bool) -> dict:
    with session_scope() as session:
        row = session.get(PerfIndicator, scope.int_id(indicator_id, "指标"))
        if row is None:
            raise NotFound("指标不存在")
        org = _require_edit(session, ctx, row.org_id)
        if row.retired != bool(retired):
            row.retired, row.updated_at = bool(retired), now()
            session.add(row)
            audit.record(session, "indicator.retire", actor=ctx, object_type="indicator", object_id=row.id,
                         org_id=org.id if org else None, detail=("停用 " if retired else "启用 ") + row.code,
                         before={"retired": not retired}, after={"retired": bool(retired)})
        return _row(row, {})


# ---- xlsx ----

def _quote(value: object) -> object:
    """Text as text: a leading = + - @ would make Excel evaluate it as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_xlsx(ctx: UserContext, year: int) -> tuple[str, bytes]:
    with session_scope() as session:
        q = _filtered(ctx, scope.year(year)).order_by(PerfIndicator.code)
        found = session.exec(q).all()
        book = Workbook()
        ws = book.active
        ws.title = "指标库"
        ws.append(list(COLUMNS))
        for r in found:
            ws.append([_quote(getattr(r, f)) for f in COLUMNS.values()])
        out = io.BytesIO()
        book.save(out)
        audit.record(session, "indicator.export", actor=ctx, object_type="indicator",
                     detail=f"导出 {year} 年度指标库 {len(found)} 条")
    return f"绩效指标库_{year}.xlsx", out.getvalue()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _unquote(text: str) -> str:
    """What _quote wrote comes back as typed ("'=" → "=")."""
    text = text.strip()
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text


def parse_table(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, {field: text}) of an xlsx or csv edition; the file as a whole is refused when unreadable."""
    name = scope.text(filename, "文件名", 200, required=True).lower()
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValidationError("文件为空")
    limit = get_settings().max_upload_bytes
    if len(data) > limit:
        raise ValidationError(f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
    if name.endswith(".xlsx"):
        table = xlsx.read_rows(bytes(data), MAX_ROWS + 1)
        formulas = [n for n, row in enumerate(table, start=1) if any(f for _, f in row)]
        if formulas:
            raise ValidationError(f"第{formulas[0]}行含公式：请只保留数值和文字")
        grid = [[_text(v) for v, _ in row] for row in table]
    elif name.endswith(".csv"):
        try:
            grid = list(csv.reader(io.StringIO(bytes(data).decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error):
            raise ValidationError("CSV 文件须为 UTF-8 编码的逗号分隔文本") from None
        if len(grid) > MAX_ROWS + 1:
            raise ValidationError(f"行数过多：一次最多导入 {MAX_ROWS} 行")
    else:
        raise ValidationError("文件格式不支持：请上传 .xlsx 或 .csv 文件")
    header = ["".join(h.split()) for h in (grid[0] if grid else [])]
    missing = [h for h in COLUMNS if h not in header]
    if missing:
        raise ValidationError(f"第1行表头缺少列：{'、'.join(missing)}（请使用导出的文件）")
    out = []
    for n, row in enumerate(grid[1:], start=2):
        cells = {COLUMNS[h]: _unquote(row[i] if i < len(row) else "") for i, h in enumerate(header) if h in COLUMNS}
        if any(cells.values()):
            out.append((n, cells))
    if not out:
        raise ValidationError("文件中没有指标行")
    return out


def import_table(ctx: UserContext | None, year: int, owner_id: object, filename: str, data: bytes) -> dict:
    """Add or update the owner's indicators of `year` by code, all or nothing; indicators not in the file stay.
    ctx None: the command line (the common library only)."""
    year = scope.year(year)
    table = parse_table(filename, data)
    problems, clean_rows, seen = [], [], set()
    for n, cells in table:
        try:
            row = clean(cells, f"第{n}行")
        except ValidationError as exc:
            problems.append(str(exc))
            continue
        if not row["code"]:
            problems.append(f"第{n}行编码不能为空")
        elif row["code"] in seen:
            problems.append(f"第{n}行编码 {row['code']} 在文件中重复")
        seen.add(row["code"])
        clean_rows.append((n, row))
    with session_scope() as session:
        owner = scope.opt_id(owner_id, "所属单位")
        org = _require_edit(session, ctx, owner) if ctx is not None else None
        if ctx is None and owner is not None:
            raise ValidationError("命令行只导入省级通用指标库")
        existing = {r.code: r for r in session.exec(select(PerfIndicator).where(
            PerfIndicator.fiscal_year == year, PerfIndicator.code.in_([r["code"] for _, r in clean_rows])))}
        for n, row in clean_rows:
            old = existing.get(row["code"])
            if old is not None and old.org_id != owner:
                problems.append(f"第{n}行编码 {row['code']} 已属于其他单位的指标")
            elif old is None and owner is not None and not row["code"].startswith(f"D{owner}-"):
                problems.append(f"第{n}行编码须以 D{owner}- 开头（本单位指标）")
        if problems:
            more = f"等 {len(problems)} 处" if len(problems) > 10 else ""
            raise ValidationError("导入失败，未做任何修改：" + "；".join(problems[:10]) + more)
        added = updated = 0
        for _, row in clean_rows:
            old = existing.get(row["code"])
            if old is None:
                session.add(PerfIndicator(fiscal_year=year, org_id=owner, **row))
                added += 1
            elif any(getattr(old, k) != v for k, v in row.items()):
                for k, v in row.items():
                    setattr(old, k, v)
                old.updated_at = now()
                session.add(old)
                updated += 1
        audit.record(session, "indicator.import", actor=ctx, username="" if ctx else "cli",
                     object_type="indicator", org_id=org.id if org else None,
                     detail=f"导入 {year} 年度指标库：新增 {added} 条，更新 {updated} 条",
                     after={"file": filename, "added": added, "updated": updated})
    return {"added": added, "updated": updated, "rows": len(clean_rows)}


def cli_rows(year: int) -> list[dict]:
    """The whole library of `year` for `hbbudget indicators list` (run on the server: no user scope)."""
    with session_scope() as session:
        rows = session.exec(select(PerfIndicator).where(PerfIndicator.fiscal_year == scope.year(year))
                            .order_by(PerfIndicator.code)).all()
        names = _org_names(session, {r.org_id for r in rows if r.org_id})
        return [{**{f: getattr(r, f) for f in COLUMNS.values()}, "industries": _split(r.industries),
                 "retired": r.retired, "owner": names.get(r.org_id, "") if r.org_id else "省级通用"} for r in rows]
