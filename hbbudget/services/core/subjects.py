"""政府收支分类科目: import an official table for a fiscal year, and list subjects for the UI.

An import is all or nothing: the file is read and checked completely before the database is touched.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hbbudget.db import session_scope
from hbbudget.models import EconomicSubject, FunctionSubject
from hbbudget.services.core import audit, xlsx
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings

KIND_LABELS = {"function": "支出功能分类", "dept": "部门预算支出经济分类", "gov": "政府预算支出经济分类"}
LEVEL_NAMES = {1: "类", 2: "款", 3: "项"}
SOURCE_LABELS = {"verified": "已核实", "inferred": "推断", "skeleton": "骨架", "imported": "导入", "demo": "演示"}

_KIND_BY_DIGIT = {"2": "function", "3": "dept", "5": "gov"}
_LENGTHS = {"function": (3, 5, 7), "dept": (3, 5), "gov": (3, 5)}
_CODE_HEADERS = {"编码", "科目编码", "代码", "code"}
_NAME_HEADERS = {"名称", "科目名称", "name"}
_HEADER_SCAN = 20  # official tables may carry a title row or two above the header
_MAX_ROWS = 50_000
_MAX_NAME = 128
_MAX_LISTED = 20  # problems listed in a refusal
_MAX_LIMIT = 200

# A cell as read: (text, is_formula)
Cell = tuple[str, bool]


@dataclass
class ImportReport:
    year: int
    kind: str
    total: int = 0
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (code, old, new)
    retired: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"rows": self.total, "added": len(self.added), "renamed": len(self.renamed),
                "retired": len(self.retired), "reactivated": len(self.reactivated)}

    def summary(self) -> str:
        head = (f"导入 {self.year} 年{KIND_LABELS[self.kind]}：新增 {len(self.added)} 个，"
                f"更名 {len(self.renamed)} 个，停用 {len(self.retired)} 个")
        if self.reactivated:
            head += f"，恢复 {len(self.reactivated)} 个"
        lines = [head]
        for label, items in (("新增", self.added), ("更名", [f"{c} {o}→{n}" for c, o, n in self.renamed]),
                             ("停用", self.retired), ("恢复", self.reactivated)):
            if items:
                more = f" 等 {len(items)} 个" if len(items) > 50 else ""
                lines.append(f"{label}：" + "、".join(items[:50]) + more)
        return "\n".join(lines)


# ---- reading the file ----

def _refuse(problems: list[tuple[int, str]]) -> ValidationError:
    problems = sorted(problems)
    lines = [f"第{n}行：{why}" for n, why in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"……另有 {len(problems) - _MAX_LISTED} 处问题未列出")
    return ValidationError(f"科目表有 {len(problems)} 处问题，未导入任何数据：\n" + "\n".join(lines))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores codes typed as numbers as floats
    return str(value).strip()


def _read_bytes(path: Path) -> bytes:
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ValidationError("文件格式不支持：仅支持 xlsx 或 csv 文件")
    if not path.is_file():
        raise ValidationError(f"文件不存在：{path.name}")
    limit = get_settings().max_upload_bytes
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
    if not data.strip():
        raise ValidationError("文件为空")
    return data


def _read_csv(data: bytes) -> list[list[Cell]]:
    if b"\x00" in data:
        raise ValidationError("文件不是文本格式的 csv 文件")
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError("无法识别文件编码：csv 须为 UTF-8 或 GBK 编码")
    try:
        rows = [[(_text(v), False) for v in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise ValidationError(f"csv 文件格式错误：{exc}") from exc
    return rows


def _read_xlsx(data: bytes) -> list[list[Cell]]:
    rows = xlsx.read_rows(data, _MAX_ROWS + _HEADER_SCAN, too_many=f"行数过多：科目表不能超过 {_MAX_ROWS} 行")
    return [[(_text(v), formula) for v, formula in row] for row in rows]


def _find_header(rows: list[list[Cell]]) -> tuple[int, int, int]:
    """(header row index, code column, name column)."""
    for idx, row in enumerate(rows[:_HEADER_SCAN]):
        keys = ["".join(t.split()).lower() for t, _ in row]
        code_col = next((i for i, k in enumerate(keys) if k in _CODE_HEADERS), None)
        name_col = next((i for i, k in enumerate(keys) if k in _NAME_HEADERS), None)
        if code_col is not None and name_col is not None:
            return idx, code_col, name_col
    raise ValidationError(f"缺少表头：前 {_HEADER_SCAN} 行中未找到编码列（编码/科目编码/代码/code）"
                          "和名称列（名称/科目名称/name）")


def parse_table(path: Path) -> tuple[str, list[tuple[int, str, str]]]:
    """Read and check a whole table: (kind, [(row number, code, name)]); raise ValidationError on any problem."""
    path = Path(path)
    data = _read_bytes(path)
    rows = _read_xlsx(data) if path.suffix.lower() == ".xlsx" else _read_csv(data)
    header, code_col, name_col = _find_header(rows)
    problems: list[tuple[int, str]] = []
    entries: list[tuple[int, str, str]] = []
    for idx in range(header + 1, len(rows)):
        n, row = idx + 1, rows[idx]
        if not any(t for t, _ in row):
            continue  # blank line
        code, code_f = row[code_col] if code_col < len(row) else ("", False)
        name, name_f = row[name_col] if name_col < len(row) else ("", False)
        if code_f or name_f:
            problems.append((n, "编码或名称单元格含公式，请改为数值后再导入"))
        elif not code:
            problems.append((n, "编码为空"))
        elif not name:
            problems.append((n, f"编码 {code} 的名称为空"))
        elif not (code.isascii() and code.isdigit()):
            problems.append((n, f"编码“{code[:20]}”不是数字"))
        elif len(name) > _MAX_NAME:
            problems.append((n, f"编码 {code} 的名称超过 {_MAX_NAME} 个字符"))
        else:
            entries.append((n, code, name))
    if not entries and not problems:
        raise ValidationError("文件中没有科目数据：表头之后没有任何行")
    if len(entries) > _MAX_ROWS:
        raise ValidationError(f"行数过多：科目表不能超过 {_MAX_ROWS} 行")
    kind = _detect_kind(entries, problems)
    _check_structure(kind, entries, problems)
    if problems:
        raise _refuse(problems)
    return kind, entries


def _detect_kind(entries: list[tuple[int, str, str]], problems: list[tuple[int, str]]) -> str:
    """The kind shared by the codes' first digit; rows of another kind are problems."""
    votes: dict[str, int] = {}
    for _, code, _ in entries:
        kind = _KIND_BY_DIGIT.get(code[0])
        if kind:
            votes[kind] = votes.get(kind, 0) + 1
    kind = max(votes, key=lambda k: votes[k]) if votes else ""
    for n, code, _ in entries:
        other = _KIND_BY_DIGIT.get(code[0])
        if other is None:
            problems.append((n, f"编码 {code} 不属于任何科目类型（须以 2 功能分类、3 部门经济分类或 5 政府经济分类开头）"))
        elif other != kind:
            problems.append((n, f"编码 {code} 属于{KIND_LABELS[other]}，与文件中的{KIND_LABELS[kind]}混杂"))
    return kind


def _check_structure(kind: str, entries: list[tuple[int, str, str]], problems: list[tuple[int, str]]) -> None:
    """Lengths, duplicates, parents present in the file."""
    if not kind:
        return  # no known kind: every row is already reported
    lengths = _LENGTHS[kind]
    first_row: dict[str, int] = {}
    for n, code, _ in entries:
        if code in first_row:
            problems.append((n, f"编码 {code} 与第{first_row[code]}行重复"))
        else:
            first_row[code] = n
    for n, code, _ in entries:
        if _KIND_BY_DIGIT.get(code[0]) != kind:
            continue  # already reported
        if len(code) not in lengths:
            want = "/".join(map(str, lengths))
            problems.append((n, f"编码 {code} 为 {len(code)} 位，{KIND_LABELS[kind]}编码应为 {want} 位"))
        elif len(code) > 3 and code[:-2] not in first_row:
            problems.append((n, f"编码 {code} 的上级科目 {code[:-2]} 不在文件中"))


# ---- writing ----

def _model(kind: str):
    return FunctionSubject if kind == "function" else EconomicSubject


def _scope(kind: str, year: int) -> list:
    model = _model(kind)
    conds = [model.fiscal_year == year]
    if kind != "function":
        conds.append(EconomicSubject.kind == kind)
    return conds


def _apply(session: Session, year: int, kind: str, entries: list[tuple[int, str, str]]) -> ImportReport:
    model = _model(kind)
    existing = {s.code: s for s in session.exec(select(model).where(*_scope(kind, year))).all()}
    report = ImportReport(year=year, kind=kind, total=len(entries))
    for _, code, name in entries:
        level, parent = _LENGTHS[kind].index(len(code)) + 1, (code[:-2] if len(code) > 3 else None)
        row = existing.get(code)
        if row is None:
            extra = {} if kind == "function" else {"kind": kind}
            session.add(model(fiscal_year=year, code=code, name=name, level=level, parent_code=parent,
                              source="imported", **extra))
            report.added.append(code)
            continue
        if row.name != name:
            report.renamed.append((code, row.name, name))
            row.name = name
        if not row.active:
            report.reactivated.append(code)
            row.active = True
        row.level, row.parent_code, row.source = level, parent, "imported"
        session.add(row)
    in_file = {code for _, code, _ in entries}
    for code in sorted(existing):
        row = existing[code]
        if code not in in_file and row.active:
            row.active = False  # retired this year: kept for history, not offered for new budgets
            report.retired.append(code)
            session.add(row)
    return report


def import_file(path: Path, year: int, *, actor: UserContext | None = None, dry_run: bool = False) -> ImportReport:
    """Import an official table (xlsx/csv with 编码 and 名称 columns) as the subjects of `year`; `dry_run`
    reports the same without keeping anything (the preview of the yearly update page)."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ValidationError("年度须为 2000 至 2100 之间的整数")
    path = Path(path)
    kind, entries = parse_table(path)
    try:
        with session_scope() as session:
            report = _apply(session, year, kind, entries)
            session.flush()
            if dry_run:
                session.rollback()
                return report
            audit.record(session, "subjects.import", actor=actor, username="" if actor else "system",
                         object_type="subject", object_id=f"{year}/{kind}",
                         detail=f"导入{KIND_LABELS[kind]}：文件 {path.name[:200]}",
                         after={"year": year, "kind": kind, **report.counts()})
    except IntegrityError as exc:  # another import of the same year ran at the same time
        raise ValidationError("同一年度的科目表正被另一次导入修改，请稍后重试") from exc
    return report


# ---- reading for the UI ----

def list_subjects(session: Session, kind: str, year: int, search: str = "", offset: int = 0,
                  limit: int = 50) -> tuple[list[dict], int]:
    """One page of subjects of a kind and year (code order), and the total matching."""
    if kind not in KIND_LABELS:
        raise ValidationError("未知的科目类型：须为 function、dept 或 gov")
    for value, label in ((year, "年度"), (offset, "偏移量"), (limit, "每页条数")):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(f"{label}须为整数")
    if offset < 0 or limit < 1:
        raise ValidationError("偏移量不能为负数，每页条数至少为 1")
    limit = min(limit, _MAX_LIMIT)
    model = _model(kind)
    conds = _scope(kind, year)
    search = (search or "").strip()[:64]
    if search:
        conds.append(or_(model.code.startswith(search, autoescape=True),
                         model.name.contains(search, autoescape=True)))
    total = session.exec(select(func.count()).select_from(model).where(*conds)).one()
    rows = session.exec(select(model).where(*conds).order_by(model.code).offset(offset).limit(limit)).all()
    return [{
        "code": r.code, "name": r.name, "level": r.level, "level_name": LEVEL_NAMES.get(r.level, ""),
        "parent_code": r.parent_code, "active": r.active, "source": SOURCE_LABELS.get(r.source, r.source),
    } for r in rows], total


def years_available(session: Session) -> list[int]:
    """Fiscal years that have any subjects, ascending."""
    years = set(session.exec(select(FunctionSubject.fiscal_year).distinct()).all())
    years |= set(session.exec(select(EconomicSubject.fiscal_year).distinct()).all())
    return sorted(years)


def browse(ctx: UserContext, kind: str, year: int, search: str = "", offset: int = 0,
           limit: int = 50) -> tuple[list[dict], int, list[int]]:
    """基础数据 (subject.view): one page of subjects, the total matching, and the years that have any."""
    if not ctx.has("subject.view"):
        raise PermissionDenied("没有权限：查看基础数据")
    with session_scope() as session:
        rows, total = list_subjects(session, kind, year, search, offset, limit)
        return rows, total, years_available(session)
