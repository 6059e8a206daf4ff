"""Reading an uploaded .xlsx safely: one place for the checks every import needs.

Refused as a whole, with a Chinese message: not a zip/xlsx, damaged, a decompression bomb, hidden sheets,
more rows than the caller allows. Formulas are reported per cell (value, is_formula), never evaluated.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from hbbudget.services.errors import ValidationError

MAX_UNPACKED = 200 * 1024 * 1024  # what the zip may expand to
Cell = tuple[object, bool]


def read_rows(data: bytes, max_rows: int, sheet: str = "", too_many: str = "") -> list[list[Cell]]:
    """Rows of the named sheet (else the first), top to bottom: [(value, is_formula), …] per row."""
    data = bytes(data)
    if not data.startswith(b"PK\x03\x04"):
        raise ValidationError("文件不是有效的 xlsx 工作簿")
    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationError("无法读取 xlsx 文件：文件已损坏或不是 Excel 工作簿") from exc
    if unpacked > MAX_UNPACKED:
        raise ValidationError("xlsx 文件解压后过大，已拒绝")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:
        raise ValidationError("无法读取 xlsx 文件：文件已损坏或不是 Excel 工作簿") from exc
    try:
        hidden = [ws.title for ws in list(wb.worksheets) + list(wb.chartsheets) if ws.sheet_state != "visible"]
        if hidden:
            raise ValidationError(f"工作簿含隐藏工作表“{'、'.join(hidden)}”：请删除或取消隐藏后再导入")
        if not wb.worksheets:
            raise ValidationError("工作簿中没有工作表")
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        ws.reset_dimensions()  # do not trust the stored sheet size
        rows: list[list[Cell]] = []
        for row in ws.iter_rows(min_row=1):  # missing rows come back empty: index = row number - 1
            rows.append([(c.value, c.data_type == "f") for c in row])
            if len(rows) > max_rows:
                raise ValidationError(too_many or f"行数过多：一次最多导入 {max_rows} 行")
        return rows
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError("无法读取 xlsx 文件：文件已损坏或不是 Excel 工作簿") from exc
    finally:
        wb.close()
