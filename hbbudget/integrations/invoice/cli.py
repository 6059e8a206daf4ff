"""`hbbudget invoice parse FILE`: print each invoice as one JSON object (exit 1 unreadable, 2 unknown format)."""

from __future__ import annotations

import argparse
import json
import sys

from hbbudget.integrations.invoice.parse import UnknownFormat, parse_invoice
from hbbudget.integrations.invoice.records import MAX_BYTES, InvoiceFormatError, to_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hbbudget invoice", description="电子发票工具")
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="解析 OFD / 发票 XML / 电子凭证 XBRL 并输出 JSON")
    parse.add_argument("file", nargs="+", help="文件路径（可多个）")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return int(exc.code or 0)
    status = 0
    for path in args.file:
        try:
            invoice = parse_invoice(_read(path))
        except UnknownFormat as exc:
            print(f"错误：{path}：{exc}", file=sys.stderr)
            status = 2
            continue
        except InvoiceFormatError as exc:
            print(f"错误：{path}：{exc}", file=sys.stderr)
            status = status or 1
            continue
        print(json.dumps(to_json(invoice), ensure_ascii=False))
    return status


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # bounded: a device or a pipe never ends
    except FileNotFoundError:
        raise InvoiceFormatError("文件不存在") from None
    except IsADirectoryError:
        raise InvoiceFormatError("不是文件") from None
    except OSError as exc:
        raise InvoiceFormatError(f"无法读取文件（{exc.strerror or exc}）") from None
    if len(data) > MAX_BYTES:
        raise InvoiceFormatError(f"文件过大（超过 {MAX_BYTES} 字节）")
    return data


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
