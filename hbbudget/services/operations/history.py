"""历史数据迁移, reading (issue 17): the documented template (docs/deployment.md; `template_bytes()` builds it),
one sheet per kind: 项目, 预算, 预算明细, 交易, as one xlsx workbook or one csv per sheet. Rows keep their row
number. Planning and applying: migrate.py."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook

from hbbudget.services.core import xlsx
from hbbudget.services.errors import ValidationError

MAX_ROWS = 50_000
SHEETS: dict[str, tuple[str, ...]] = {
    "项目": ("项目编码", "项目名称", "单位编码", "项目类别", "开始年度", "结束年度", "项目总额（元）", "功能分类编码",
             "项目状态"),
    "预算": ("单位编码", "年度", "预算总额（元）"),
    "预算明细": ("单位编码", "年度", "项目编码", "经济分类编码", "功能分类编码", "资金来源", "金额（元）", "说明"),
    "交易": ("银行账号", "交易流水号", "记账日期", "金额（元）", "对方户名", "摘要"),
}
EXAMPLE = {
    "项目": ("HIST2024P000001", "2024年教学设备购置", "U", "3", "2024", "2024", "500000", "2050205", "已完成"),
    "预算": ("U", "2024", "500000"),
    "预算明细": ("U", "2024", "HIST2024P000001", "31002", "2050205", "财政拨款", "500000", "教学设备"),
    "交易": ("13010100000001", "HIST-2024-0001", "2024-06-30", "-123456.78", "某设备公司", "设备款"),
}
Row = dict[str, str]


@dataclass
class Item:
    sheet: str
    row: int
    key: str
    action: str  # 新增 更新 不变 拒绝
    reason: str = ""


@dataclass
class Report:
    items: list[Item] = field(default_factory=list)
    applied: bool = False

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("新增", "更新", "不变", "拒绝")}
        for i in self.items:
            out[i.action] += 1
        return out

    @property
    def refused(self) -> list[Item]:
        return [i for i in self.items if i.action == "拒绝"]

    def summary(self) -> str:
        c = self.counts()
        return f"新增 {c['新增']} 行，更新 {c['更新']} 行，不变 {c['不变']} 行，拒绝 {c['拒绝']} 行"


# ------------------------------------------------------------------ reading

def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _table(sheet: str, rows: list[list[object]]) -> list[tuple[int, Row]]:
    """(row number, values by header) below the header row, which must carry the template's columns."""
    if not rows:
        return []
    header = [_text(v) for v in rows[0]]
    missing = [h for h in SHEETS[sheet] if h not in header]
    if missing:
        raise ValidationError(f"工作表“{sheet}”缺少列：{'、'.join(missing)}（请使用导入模板）")
    at = {h: header.index(h) for h in SHEETS[sheet]}
    out = []
    for number, row in enumerate(rows[1:], start=2):
        values = {h: _text(row[i]) if i < len(row) else "" for h, i in at.items()}
        if any(values.values()):
            out.append((number, values))
    return out


def read_workbook(data: bytes) -> dict[str, list[tuple[int, Row]]]:
    """The template as one xlsx workbook (the sheets it lacks are empty)."""
    xlsx.read_rows(data, MAX_ROWS, too_many=f"行数过多：每张工作表最多 {MAX_ROWS} 行")  # the safety checks first
    names = load_workbook(io.BytesIO(data), read_only=True).sheetnames
    found = {}
    for sheet in SHEETS:
        if sheet not in names:
            found[sheet] = []
            continue
        rows = xlsx.read_rows(data, MAX_ROWS, sheet=sheet, too_many=f"行数过多：每张工作表最多 {MAX_ROWS} 行")
        if any(formula for row in rows for _, formula in row):
            raise ValidationError(f"工作表“{sheet}”含公式：请粘贴为数值后再导入")
        found[sheet] = _table(sheet, [[v for v, _ in r] for r in rows])
    if not any(found.values()):
        raise ValidationError(f"工作簿中没有可导入的数据：须含工作表 {'、'.join(SHEETS)} 之一")
    return found


def _read_csv(sheet: str, data: bytes) -> list[tuple[int, Row]]:
    if b"\x00" in data:
        raise ValidationError(f"{sheet}.csv 不是文本格式的 csv 文件")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(f"无法识别 {sheet}.csv 的编码：须为 UTF-8 或 GBK")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ValidationError(f"{sheet}.csv 格式错误：{exc}") from exc
    if len(rows) > MAX_ROWS + 1:
        raise ValidationError(f"行数过多：{sheet}.csv 最多 {MAX_ROWS} 行")
    return _table(sheet, rows)


def read_folder(folder: Path, max_bytes: int) -> dict[str, list[tuple[int, Row]]]:
    """FOLDER holds one .xlsx workbook of the template, or one csv per sheet (项目.csv, 预算.csv, ...)."""
    if not folder.is_dir():
        raise ValidationError(f"目录不存在：{folder}")
    books = sorted(folder.glob("*.xlsx"))
    if len(books) > 1:
        raise ValidationError(f"目录中有多个 xlsx 工作簿（{'、'.join(b.name for b in books)}）：请只放一个")

    def read(path: Path) -> bytes:
        if path.stat().st_size > max_bytes:
            raise ValidationError(f"文件过大：{path.name} 不能超过 {max_bytes // (1024 * 1024)} MB")
        return path.read_bytes()

    if books:
        return read_workbook(read(books[0]))
    found = {s: _read_csv(s, read(folder / f"{s}.csv")) if (folder / f"{s}.csv").is_file() else [] for s in SHEETS}
    if not any(found.values()):
        raise ValidationError(f"目录中没有导入模板的文件：须有一个 xlsx 工作簿，或 {'、'.join(SHEETS)}.csv")
    return found


def template_bytes() -> bytes:
    """The downloadable template: one sheet per kind, the header row and one example row."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, header in SHEETS.items():
        ws = wb.create_sheet(sheet)
        ws.append(list(header))
        ws.append(list(EXAMPLE[sheet]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
