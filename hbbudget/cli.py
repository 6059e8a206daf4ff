"""The `hbbudget` command: init-db, seed-demo, subjects import, indicators list/import, audit verify/purge, user
reset-password, backup, restore, migrate-import, health, sim, bank, invoice, evidence."""

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
    from hbbudget.services.performance import evaluation

    fixed = evaluation.correct_stored_totals()  # stored data the new code reads differently, with audit entries
    if fixed:
        print(f"已更正 {fixed} 份总分超过 100 分的绩效自评（见审计日志“更正绩效自评总分”）")


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
    from hbbudget.services.demo import seed

    _migrate()
    setup.init_reference_data()
    _seed_faq()
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


def cmd_indicators(args: argparse.Namespace) -> int:
    import json

    from hbbudget.clock import current_fiscal_year
    from hbbudget.services.errors import ServiceError
    from hbbudget.services.performance import library

    year = args.year or current_fiscal_year()
    try:
        if args.action == "list":
            rows = library.cli_rows(year)
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=1))
            else:
                for r in rows:
                    print(f"{r['code']}\t{r['level1']}/{r['level2']}\t{r['name']}\t{r['direction']}{r['default_target']}"
                          f"{r['unit']}\t{'、'.join(r['industries'])}\t{r['source']}")
            return 0
        path = Path(args.file)
        report = library.import_table(None, year, None, path.name, path.read_bytes())
    except (ServiceError, OSError) as err:
        print(f"失败：{err}", file=sys.stderr)
        return 1
    print(f"{year} 年度指标库：新增 {report['added']} 条，更新 {report['updated']} 条")
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


def cmd_invoice(args: argparse.Namespace) -> int:
    from hbbudget.integrations.invoice.cli import main as invoice_main

    return invoice_main(args.invoice_args)


def _sim_invoice(args: argparse.Namespace) -> int:
    from hbbudget.sim.invoice import InvoiceSim, create_app
    from hbbudget.sim.server import serve_forever

    sim = InvoiceSim(strict=args.strict)
    port = args.port or 8702
    print(f"发票查验模拟器：http://{args.host}:{port}（{'未登记的发票为“不存在”' if args.strict else '未登记的发票为“正常”'}）")
    serve_forever(create_app(sim), args.host, port)
    return 0


def _sim_evidence(args: argparse.Namespace) -> int:
    from hbbudget.sim.evidence import EvidenceSim, create_app
    from hbbudget.sim.server import serve_forever

    sim = EvidenceSim()
    port = args.port or 8704
    print(f"存证平台模拟器：http://{args.host}:{port}（公钥 {sim.public_key}，可设为 HBB_EVIDENCE_PUBLIC_KEY）")
    serve_forever(create_app(sim), args.host, port)
    return 0


def cmd_evidence_anchor(args: argparse.Namespace) -> int:
    from hbbudget.services.integrations import evidence

    counts = evidence.anchor_all()
    print(f"已存证 {counts['anchored']} 条，失败 {counts['failed']} 条")
    return 0 if not counts["failed"] else 1


def cmd_evidence_verify(args: argparse.Namespace) -> int:
    from hbbudget.services.integrations import evidence

    result = evidence.verify()
    if result.note:
        print(f"注意：{result.note}", file=sys.stderr)
    if result.ok:
        print(f"存证核验通过：已核验 {result.checked} 份回执")
        return 0
    for problem in result.problems:
        print(f"不一致：{problem}", file=sys.stderr)
    print(f"存证核验发现 {len(result.problems)} 处问题（已核验 {result.checked} 份回执）", file=sys.stderr)
    return 2


def _sim_fincloud(args: argparse.Namespace) -> int:
    from hbbudget.sim.faults import Faults
    from hbbudget.sim.fincloud import FincloudSim, create_app
    from hbbudget.sim.server import serve_forever

    sim = FincloudSim()
    try:
        sim.faults = Faults.parse(args.faults)
    except ValueError as err:
        print(f"故障设置错误：{err}", file=sys.stderr)
        return 1
    port = args.port or 8703
    print(f"财政云模拟器：http://{args.host}:{port}")
    serve_forever(create_app(sim), args.host, port)
    return 0


def cmd_sim_oa(args: argparse.Namespace) -> int:
    from hbbudget.sim.faults import Faults
    from hbbudget.sim.oa import OaSim, create_app
    from hbbudget.sim.server import serve_forever

    port = args.port or 8705
    org_code, secret = args.oa_org, args.oa_secret
    if args.demo:  # the demo unit's OA points at this simulator (created once, secret kept)
        from hbbudget.services.approvals import oa

        org_code, secret = oa.demo_config(f"http://{args.host}:{port}")
    if not org_code or len(secret) < 16:
        print("请用 --oa-org 和 --oa-secret（至少 16 位）指定单位编码和回调密钥，或用 --demo", file=sys.stderr)
        return 1
    sim = OaSim(org_code, secret, args.callback)
    try:
        sim.faults = Faults.parse(args.faults)
    except ValueError as err:
        print(f"故障设置错误：{err}", file=sys.stderr)
        return 1
    print(f"OA 模拟器：http://{args.host}:{port}（单位 {org_code}，回调 {args.callback or '无'}）")
    serve_forever(create_app(sim), args.host, port)
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    if args.invoice:
        return _sim_invoice(args)
    if args.fincloud:
        return _sim_fincloud(args)
    if args.evidence:
        return _sim_evidence(args)
    if args.oa:
        return cmd_sim_oa(args)
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
    args.port = args.port or 8701
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

    ind = sub.add_parser("indicators", help="绩效指标库").add_subparsers(dest="action", required=True)
    lst = ind.add_parser("list", help="列出指标库（代码、层级、名称、单位、方向、默认目标值、行业、来源）")
    lst.add_argument("--year", type=int, default=0)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_indicators)
    imp = ind.add_parser("import", help="导入一个年度的省级通用指标库（xlsx 或 csv，表头同导出文件）")
    imp.add_argument("file")
    imp.add_argument("--year", type=int, required=True)
    imp.set_defaults(func=cmd_indicators)

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
    sim = sub.add_parser("sim", help="启动外部系统模拟器（银行网关；--invoice 发票查验、--fincloud 财政云、--evidence 存证、--oa OA 审批）于 127.0.0.1")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=None, help="端口（银行 8701，发票查验 8702，财政云 8703，存证 8704，OA 8705）")
    sim.add_argument("--account", action="append", default=[], help="账号[:户名]，可重复")
    sim.add_argument("--project-code", action="append", default=[], help="摘要中会出现的项目编码，可重复")
    sim.add_argument("--interval", type=float, default=10.0, help="自动生成交易的间隔秒数，0 为不生成")
    sim.add_argument("--faults", default="", help="随机故障比例，如 http500:0.1,latency:0.2")
    sim.add_argument("--demo", action="store_true", help="加上演示账户和演示预算的项目编码（make run 使用）")
    sim.add_argument("--invoice", action="store_true", help="改为启动发票查验平台模拟器（默认端口 8702）")
    sim.add_argument("--fincloud", action="store_true", help="改为启动财政云（一体化）交换模拟器（默认端口 8703）")
    sim.add_argument("--evidence", action="store_true", help="改为启动存证平台模拟器（默认端口 8704）")
    sim.add_argument("--strict", action="store_true", help="发票模拟器：未登记的发票查验结果为“不存在”")
    sim.add_argument("--oa", action="store_true", help="启动 OA 审批模拟器（钉钉式、企业微信式）而不是银行网关")
    sim.add_argument("--oa-org", default="", help="OA 模拟器所属单位编码（--demo 时为演示大学）")
    sim.add_argument("--oa-secret", default="", help="回调签名密钥（--demo 时取数据库中的配置）")
    sim.add_argument("--callback", default="", help="审批结果回调地址，如 http://127.0.0.1:3000/api/oa/callback")
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
    evi = sub.add_parser("evidence", help="存证：把审计链头和预算批复版本的哈希存证，并核验").add_subparsers(
        dest="action", required=True)
    evi.add_parser("anchor", help="把尚未存证的记录发送到存证平台").set_defaults(func=cmd_evidence_anchor)
    evi.add_parser("verify", help="重新计算哈希并核验每份回执，列出不再一致的记录（退出码 2）").set_defaults(
        func=cmd_evidence_verify)
    invoice = sub.add_parser("invoice", help="电子发票：hbbudget invoice parse FILE", add_help=False)
    invoice.add_argument("invoice_args", nargs=argparse.REMAINDER)
    invoice.set_defaults(func=cmd_invoice)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
