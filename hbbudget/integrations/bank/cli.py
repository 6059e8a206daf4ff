"""`hbbudget bank parse FILE [--format camt|json]`: print a statement file as the to_json() document."""

from __future__ import annotations

import argparse
import json
import sys

from hbbudget.integrations.bank.camt import parse_camt
from hbbudget.integrations.bank.jsonapi import parse_page
from hbbudget.integrations.bank.records import MAX_BYTES, BankFormatError, Statement, to_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hbbudget bank", description="银行对账单工具")
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="解析 camt XML 或交易明细 JSON 文件并输出 JSON")
    parse.add_argument("file", help="文件路径")
    parse.add_argument("--format", choices=("camt", "json"), help="文件格式（省略时按首个非空白字符识别）")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return int(exc.code or 0)
    try:
        statements = _parse_file(args.file, args.format)
    except BankFormatError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    for s in statements:
        if s.reconciles is False:
            print(f"警告：账户 {s.account} 的对账单 {s.statement_id or ''} 期初余额加已记账发生额不等于期末余额",
                  file=sys.stderr)
    print(json.dumps(to_json(statements), ensure_ascii=False, indent=2))
    return 0


def _parse_file(path: str, fmt: str | None) -> list[Statement]:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # bounded: a device or a pipe never ends
    except FileNotFoundError:
        raise BankFormatError(f"文件不存在：{path}") from None
    except IsADirectoryError:
        raise BankFormatError(f"不是文件：{path}") from None
    except OSError as exc:
        raise BankFormatError(f"无法读取文件：{path}（{exc.strerror or exc}）") from None
    if len(data) > MAX_BYTES:
        raise BankFormatError(f"文件过大：{path}（超过 {MAX_BYTES} 字节）")
    fmt = fmt or _detect(data)
    if fmt == "json":
        return [parse_page(data)[0]]
    return parse_camt(data)


def _detect(data: bytes) -> str:
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if head == b"<":
        return "camt"
    if head in (b"{", b"["):
        return "json"
    raise BankFormatError("无法识别文件格式：既不是 XML（<）也不是 JSON（{）开头，请用 --format 指定")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
