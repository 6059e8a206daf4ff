"""The `hbbudget` command: init-db, seed-demo, subjects import, audit verify/purge, user reset-password, backup,
restore, migrate-import, health, sim, bank."""

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


def _seed_faq() -> int:
    from hbbudget.db import session_scope
    from hbbudget.services.operations import faq

    with session_scope() as session:
        return faq.ensure_seed(session)


def cmd_init_db(args: argparse.Namespace) -> int:
    from hbbudget.services.core import setup

    _migrate()
    report = setup.init_reference_data()
    print(f"数据库已迁移到最新版本；参考数据：{report}；知识库新增 {_seed_faq()} 条")
    for line in setup.ensure_admin_accounts():
        print(line)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from hbbudget.services.core import setup
    from hbbudget.services.demo import seed as demo

    _migrate()
    setup.init_reference_data()
    _seed_faq()
    print(demo.seed_demo())
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


def cmd_backup(args: argparse.Namespace) -> int:
    from hbbudget.services.operations import backup

    try:
        made = backup.create("cli", "cli")
    except Exception as err:
        print(f"备份失败：{err}", file=sys.stderr)
        return 1
    m = made.manifest
    print(f"已备份到 {made.path}（{m['size']} 字节，SHA-256 {m['sha256']}，结构版本 {','.join(m['revision'])}，"
          f"审计日志末条 {m['audit_head']['id']}，异地：{m['offsite']}）")
    if args.prune:
        print(f"按保留策略删除过期备份 {backup.prune('cli')} 份")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from hbbudget.services.errors import ServiceError
    from hbbudget.services.operations import backup

    try:
        manifest = backup.restore(Path(args.file))
    except ServiceError as err:
        print(f"恢复失败：{err}", file=sys.stderr)
        return 1
    print(f"已从 {manifest['file']} 恢复 {len(manifest['tables'])} 张表，行数与内容哈希均与清单一致；"
          "请再运行 hbbudget audit verify")
    return 0


def cmd_migrate_import(args: argparse.Namespace) -> int:
    from hbbudget.services.errors import ServiceError
    from hbbudget.services.operations import history, migrate
    from hbbudget.settings import get_settings

    if args.template:
        Path(args.template).write_bytes(history.template_bytes())
        print(f"已生成导入模板：{args.template}")
        return 0
    if not args.folder:
        print("请指定数据目录，或用 --template 文件名 生成导入模板", file=sys.stderr)
        return 1
    try:
        sheets = history.read_folder(Path(args.folder), get_settings().max_upload_bytes)
        report = migrate.run(sheets, dry_run=args.dry_run, operator="cli")
    except ServiceError as err:
        print(f"导入失败：{err}", file=sys.stderr)
        return 1
    for item in report.items:
        if item.action != "不变":
            print(f"[{item.sheet}] 第 {item.row} 行 {item.key}：{item.action}{'：' + item.reason if item.reason else ''}")
    print(("试运行（未写入）：" if args.dry_run else "") + report.summary())
    if report.refused:
        if not args.dry_run:
            print("有被拒绝的行：未导入任何数据。请修正后重试。", file=sys.stderr)
        return 1
    if not args.dry_run:
        print("已全部导入，并记入审计日志。")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from hbbudget.services.operations import health

    checks, _ = health.run_checks()
    for c in checks:
        print(f"[{c.level}] {c.name}：{c.value}{'（' + c.detail + '）' if c.detail else ''}")
    level = health.overall(checks)
    print(f"总体：{level}")
    return health.RANK[level]


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

    bk = sub.add_parser("backup", help="备份数据库到 HBB_BACKUP_DIR（含清单；设置了 HBB_BACKUP_OFFSITE_DIR 时复制到异地）")
    bk.add_argument("--prune", action="store_true", help="备份后按保留策略（每日 14 份、每月 12 份）删除过期备份")
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser("restore", help="从备份文件恢复到空数据库（校验哈希与结构版本，恢复后逐表核对）")
    rs.add_argument("file")
    rs.set_defaults(func=cmd_restore)

    sub.add_parser("health", help="系统巡检：数据库、备份、审计链、定时任务、接口、磁盘、登录失败（退出码 0 绿 1 黄 2 红）") \
        .set_defaults(func=cmd_health)
    mi = sub.add_parser("migrate-import", help="历史数据迁移：从导入模板（xlsx 或各工作表的 csv）导入以前年度的项目、预算和交易")
    mi.add_argument("folder", nargs="?", default="")
    mi.add_argument("--dry-run", action="store_true", help="只报告每行将新增、更新或拒绝（含行号和原因），不写入")
    mi.add_argument("--template", default="", help="生成导入模板 xlsx 到该文件")
    mi.set_defaults(func=cmd_migrate_import)

    bank = sub.add_parser("bank", help="银行对账单：hbbudget bank parse FILE [--format camt|json]", add_help=False)
    bank.add_argument("bank_args", nargs=argparse.REMAINDER)
    bank.set_defaults(func=cmd_bank)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
