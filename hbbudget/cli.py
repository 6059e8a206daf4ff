"""The `hbbudget` command: init-db, seed-demo, subjects import, audit verify/purge, user reset-password, sim, bank."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hbbudget.settings import ROOT


def _migrate() -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


def cmd_init_db(args: argparse.Namespace) -> int:
    from hbbudget.services.core import setup

    _migrate()
    report = setup.init_reference_data()
    print(f"数据库已迁移到最新版本；参考数据：{report}")
    for line in setup.ensure_admin_accounts():
        print(line)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from hbbudget.services.core import setup
    from hbbudget.services.demo import seed

    _migrate()
    setup.init_reference_data()
    print(seed.seed_demo())
    return 0


def cmd_subjects_import(args: argparse.Namespace) -> int:
    from hbbudget.services.core import subjects
    from hbbudget.services.errors import ServiceError

    try:
        report = subjects.import_file(Path(args.file), args.year)
    except ServiceError as err:
        print(f"导入失败：{err}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from hbbudget.db import session_scope
    from hbbudget.services.core import audit

    with session_scope() as session:
        result = audit.verify(session)
    if result.ok:
        print(f"审计日志完整：已校验 {result.checked} 条记录")
        return 0
    print(f"审计日志已被篡改：第一条异常记录 id={result.broken_id}：{result.reason}", file=sys.stderr)
    return 2


def cmd_audit_purge(args: argparse.Namespace) -> int:
    from datetime import date

    from hbbudget.services.core import audit
    from hbbudget.services.errors import ServiceError

    try:
        count = audit.purge(date.fromisoformat(args.before), "cli")
    except (ServiceError, ValueError) as err:
        print(f"清理失败：{err}", file=sys.stderr)
        return 1
    print(f"已清理 {args.before} 之前的审计记录 {count} 条")
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    import getpass

    from hbbudget.services.errors import ServiceError
    from hbbudget.services.security import users

    try:
        operator = f"cli:{getpass.getuser()}"
    except Exception:
        operator = "cli"
    try:
        password = users.reset_password_on_server(args.username, operator, enable=args.enable)
    except ServiceError as err:
        print(f"重置失败：{err}", file=sys.stderr)
        return 1
    print(f"已重置 {args.username} 的密码并解锁{'、启用' if args.enable else ''}，已结束其全部会话。")
    print(f"临时密码：{password}（仅显示一次，下次登录须修改）")
    return 0


def cmd_bank(args: argparse.Namespace) -> int:
    from hbbudget.integrations.bank.cli import main as bank_main

    return bank_main(args.bank_args)


def cmd_sim(args: argparse.Namespace) -> int:
    from hbbudget.sim.bank import BankSim, create_app
    from hbbudget.sim.faults import Faults
    from hbbudget.sim.server import serve_forever

    accounts = [{"number": n, "name": name} for n, _, name in (a.partition(":") for a in args.account)]
    codes = list(args.project_code)
    if args.demo:  # the demo accounts, and the project codes of the demo budget when the database has them
        from hbbudget.services.demo import execution

        accounts += [a for a in execution.sim_accounts() if a["number"] not in {x["number"] for x in accounts}]
        try:
            codes += execution.project_codes()
        except Exception:
            pass
    if not accounts:
        print("请用 --account 指定至少一个账户（账号[:户名]），或用 --demo", file=sys.stderr)
        return 1
    sim = BankSim(accounts, codes)
    try:
        sim.faults = Faults.parse(args.faults)
    except ValueError as err:
        print(f"故障设置错误：{err}", file=sys.stderr)
        return 1
    print(f"银行模拟器：http://{args.host}:{args.port}（{len(accounts)} 个账户，{len(codes)} 个项目编码，每 {args.interval} 秒生成一笔交易）")
    serve_forever(create_app(sim, auto_interval=args.interval), args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hbbudget", description="河北省预算项目管理系统 命令行")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init-db", help="迁移数据库并载入参考数据").set_defaults(func=cmd_init_db)
    sub.add_parser("seed-demo", help="载入演示单位和演示用户（可重复运行）").set_defaults(func=cmd_seed_demo)

    subj = sub.add_parser("subjects", help="政府收支分类科目").add_subparsers(dest="action", required=True)
    imp = subj.add_parser("import", help="导入官方科目表（xlsx 或 csv，含编码和名称列）")
    imp.add_argument("file")
    imp.add_argument("--year", type=int, required=True)
    imp.set_defaults(func=cmd_subjects_import)

    aud = sub.add_parser("audit", help="审计日志").add_subparsers(dest="action", required=True)
    aud.add_parser("verify", help="校验审计日志哈希链").set_defaults(func=cmd_audit_verify)
    purge = aud.add_parser("purge", help="清理指定日期之前的审计记录（至少保留 184 天）")
    purge.add_argument("--before", required=True, help="YYYY-MM-DD（北京时间）")
    purge.set_defaults(func=cmd_audit_purge)
    usr = sub.add_parser("user", help="账号维护（在服务器上恢复账号，含三员账号）")
    usr = usr.add_subparsers(dest="action", required=True)
    reset = usr.add_parser("reset-password", help="重置密码并解锁，打印一次性临时密码，下次登录须修改")
    reset.add_argument("username")
    reset.add_argument("--enable", action="store_true", help="同时启用已停用的账号")
    reset.set_defaults(func=cmd_user_reset_password)
    sim = sub.add_parser("sim", help="启动外部系统模拟器（银行网关）于 127.0.0.1")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8701)
    sim.add_argument("--account", action="append", default=[], help="账号[:户名]，可重复")
    sim.add_argument("--project-code", action="append", default=[], help="摘要中会出现的项目编码，可重复")
    sim.add_argument("--interval", type=float, default=10.0, help="自动生成交易的间隔秒数，0 为不生成")
    sim.add_argument("--faults", default="", help="随机故障比例，如 http500:0.1,latency:0.2")
    sim.add_argument("--demo", action="store_true", help="加上演示账户和演示预算的项目编码（make run 使用）")
    sim.set_defaults(func=cmd_sim)

    bank = sub.add_parser("bank", help="银行对账单：hbbudget bank parse FILE [--format camt|json]", add_help=False)
    bank.add_argument("bank_args", nargs=argparse.REMAINDER)
    bank.set_defaults(func=cmd_bank)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
