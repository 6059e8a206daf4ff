"""Backups (issue 17): `hbbudget backup` and the nightly job write the whole database into HBB_BACKUP_DIR with
a manifest beside it (time, size, SHA-256, schema revision, audit head, each table's row count and content hash),
copy both to HBB_BACKUP_OFFSITE_DIR (异地) when set, and keep the newest backup of each of the last 14 days and
of each of the last 12 months. `restore` loads a backup into an empty database after checking its hash and schema
revision, then proves the content: every table's row count and hash equal the manifest's."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Connection

from hbbudget.clock import CHINA, now, to_local_text
from hbbudget.db import get_engine, session_scope
from hbbudget.dialect import backup as dialect
from hbbudget.models import AuditEntry
from hbbudget.services import caches
from hbbudget.services.core import audit
from hbbudget.services.errors import ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import ROOT, get_settings

PERMISSION = "admin.settings"
KEEP_DAILY, KEEP_MONTHLY = 14, 12
PREFIX = "hbbudget-"


def backup_dir() -> Path:
    return Path(os.environ.get("HBB_BACKUP_DIR") or get_settings().var_dir / "backups")


def offsite_dir() -> Path | None:
    raw = os.environ.get("HBB_BACKUP_OFFSITE_DIR", "")
    return Path(raw) if raw else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_revisions() -> list[str]:
    """The schema revision(s) this code expects (the Alembic heads)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return sorted(ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_heads())


# ------------------------------------------------------------------ content of a database

def tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(conn)
    return sorted(meta.tables.values(), key=lambda t: t.name)


def table_digest(conn: Connection, table: Table, max_id: int | None = None) -> dict:
    """Row count and SHA-256 over every row in primary-key order (values as text)."""
    order = list(table.primary_key.columns) or list(table.columns)
    query = select(table).order_by(*order)
    if max_id is not None:
        query = query.where(table.c.id <= max_id)
    digest, rows = hashlib.sha256(), 0
    for row in conn.execute(query):
        digest.update(json.dumps([None if v is None else str(v) for v in row], ensure_ascii=False).encode())
        digest.update(b"\n")
        rows += 1
    return {"rows": rows, "sha256": digest.hexdigest()}


def content(conn: Connection) -> dict:
    """What the manifest records of a database: each table's digest, the schema revision, the audit head."""
    found = {t.name: t for t in tables(conn)}
    digests = {name: table_digest(conn, t) for name, t in found.items()}
    version, entries = found["alembic_version"], found["auditentry"]
    revision = sorted(r[0] for r in conn.execute(select(version.c.version_num)))
    head = conn.execute(select(entries.c.id, entries.c.hash).order_by(entries.c.id.desc()).limit(1)).first()
    return {"tables": digests, "revision": revision,
            "audit_head": {"id": head[0], "hash": head[1]} if head else {"id": 0, "hash": ""}}


def live_content() -> dict:
    with get_engine().connect() as conn:
        return content(conn)


# ------------------------------------------------------------------ making backups

@dataclass
class Backup:
    path: Path
    manifest: dict

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.manifest["created_at"])


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def create(operator: str = "system", trigger: str = "cli") -> Backup:
    """Back up the database now; copy it 异地 when configured; record it in the audit log."""
    engine = get_engine()
    kind = dialect.dialect_of(str(engine.url))
    folder = backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    started = now()
    name = f"{PREFIX}{started.astimezone(CHINA):%Y%m%d-%H%M%S-%f}{dialect.SUFFIX[kind]}"
    target = folder / name
    partial = folder / (name + ".part")
    try:
        found = dialect.copy_out(engine, partial, content)
        partial.replace(target)
        manifest = {"file": name, "created_at": started.isoformat(), "dialect": kind, "size": target.stat().st_size,
                    "sha256": sha256(target), "trigger": trigger, **found}
        _manifest_path(target).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        manifest["offsite"] = _copy_offsite(target)
    except Exception as err:
        partial.unlink(missing_ok=True)
        with session_scope() as session:
            audit.record(session, "backup.failed", username=operator, success=False, object_type="backup",
                         object_id=name, detail=f"备份失败：{err}"[:900])
        raise
    with session_scope() as session:
        audit.record(session, "backup.created", username=operator, object_type="backup", object_id=name,
                     detail=f"备份 {name}（{manifest['size']} 字节，{_offsite_text(manifest['offsite'])}）",
                     after={"sha256": manifest["sha256"], "audit_head": manifest["audit_head"]["id"]})
    return Backup(target, manifest)


def _copy_offsite(path: Path) -> str:
    """Copy the file and its manifest to the 异地 folder and check the copy's hash: 已复制, 未配置 or 失败：…"""
    folder = offsite_dir()
    if folder is None:
        return "未配置"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, folder / path.name)
        shutil.copy2(_manifest_path(path), folder / _manifest_path(path).name)
        if sha256(folder / path.name) != sha256(path):
            return "失败：异地副本校验不符"
        return "已复制"
    except OSError as err:
        return f"失败：{err}"


def _offsite_text(status: str) -> str:
    return {"已复制": "已复制到异地目录", "未配置": "未配置异地目录"}.get(status, f"异地复制{status}")


def listed(folder: Path | None = None) -> list[Backup]:
    """The backups in a folder, newest first (a file without a readable manifest is left out)."""
    folder = folder or backup_dir()
    found = []
    for manifest in folder.glob(f"{PREFIX}*.json") if folder.exists() else []:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        file = manifest.with_name(manifest.name[:-5])
        if file.exists():
            found.append(Backup(file, data))
    return sorted(found, key=lambda b: b.created, reverse=True)


def to_keep(backups: list[Backup]) -> set[Path]:
    """The newest backup of each of the last KEEP_DAILY days and of each of the last KEEP_MONTHLY months."""
    keep, days, months = set(), [], []
    for b in sorted(backups, key=lambda b: b.created, reverse=True):
        local = b.created.astimezone(CHINA)
        day, month = local.date(), (local.year, local.month)
        if day not in days and len(days) < KEEP_DAILY:
            days.append(day)
            keep.add(b.path)
        if month not in months and len(months) < KEEP_MONTHLY:
            months.append(month)
            keep.add(b.path)
    return keep


def prune(operator: str = "system") -> int:
    """Apply the retention to the backup folder and the 异地 folder; returns how many backups were removed."""
    removed = 0
    for folder in (backup_dir(), offsite_dir()):
        if folder is None or not folder.exists():
            continue
        backups = listed(folder)
        keep = to_keep(backups)
        for b in backups:
            if b.path not in keep:
                b.path.unlink(missing_ok=True)
                _manifest_path(b.path).unlink(missing_ok=True)
                removed += 1
    if removed:
        with session_scope() as session:
            audit.record(session, "backup.pruned", username=operator, object_type="backup",
                         detail=f"按保留策略（每日 {KEEP_DAILY} 份、每月 {KEEP_MONTHLY} 份）删除 {removed} 份过期备份")
    return removed


def nightly() -> Backup:
    """The nightly job: back up, then apply the retention."""
    made = create("system", "nightly")
    prune("system")
    return made


# ------------------------------------------------------------------ restoring

def check_file(path: Path) -> dict:
    """The manifest of a backup file, after checking the file's hash and its schema revision."""
    if not path.is_file():
        raise ValidationError(f"备份文件不存在：{path}")
    manifest_path = _manifest_path(path)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValidationError(f"找不到或无法读取备份清单 {manifest_path.name}：{err}") from err
    if sha256(path) != manifest.get("sha256"):
        raise ValidationError("备份文件的 SHA-256 与清单不符：文件已损坏或被改动，拒绝恢复")
    if manifest.get("revision") != code_revisions():
        raise ValidationError(f"备份的数据库结构版本 {manifest.get('revision')} 与本程序的版本 {code_revisions()} "
                              "不一致，拒绝恢复（请用相同版本的程序恢复）")
    return manifest


def restore(path: Path, operator: str = "cli") -> dict:
    """Load a backup into the configured database, which must be empty; verify every table after loading."""
    manifest = check_file(path)
    engine = get_engine()
    if dialect.dialect_of(str(engine.url)) != manifest.get("dialect"):
        raise ValidationError(f"备份来自 {manifest.get('dialect')} 数据库，与当前数据库类型不同，拒绝恢复")
    if not dialect.is_empty(engine):
        raise ValidationError("目标数据库不是空库，拒绝恢复（请先准备一个空数据库）")
    dialect.copy_in(engine, path)
    caches.forget()  # this process's cached sessions and data belong to the database before
    found = live_content()
    wrong = sorted(n for n in set(manifest["tables"]) | set(found["tables"])
                   if manifest["tables"].get(n) != found["tables"].get(n))
    if wrong or found["audit_head"] != manifest["audit_head"]:
        raise ValidationError(f"恢复后的数据与备份清单不符：{', '.join(wrong) or '审计日志末条'}")
    with session_scope() as session:
        audit.record(session, "backup.restored", username=operator, object_type="backup", object_id=manifest["file"],
                     detail=f"从备份 {manifest['file']} 恢复，{len(found['tables'])} 张表的行数与内容哈希均与清单一致")
    return manifest


# ------------------------------------------------------------------ the page

def overview(ctx: UserContext) -> dict:
    """What the 备份 page shows: the backups of both folders and the settings (系统管理员 at the root)."""
    scope.require_global(ctx, PERMISSION)
    with session_scope() as session:
        last = session.execute(select(AuditEntry).where(AuditEntry.event_type.in_(("backup.created", "backup.failed")))
                               .order_by(AuditEntry.id.desc()).limit(1)).scalars().first()
    remote = {b.path.name: b for b in listed(offsite_dir())} if offsite_dir() else {}
    rows = []
    for b in listed():
        m = b.manifest
        copy = remote.get(b.path.name)
        rows.append({"file": b.path.name, "created": to_local_text(b.created, seconds=True),
                     "size": f"{m['size'] / 1024 / 1024:.2f} MB", "sha256": m["sha256"][:16],
                     "revision": ",".join(m["revision"]), "audit_head": str(m["audit_head"]["id"]),
                     "trigger": {"nightly": "每日任务", "cli": "命令行", "page": "页面"}.get(m.get("trigger", ""), ""),
                     "offsite": ("已复制" if copy and copy.manifest["sha256"] == m["sha256"] else
                                 "未配置" if offsite_dir() is None else "缺失")})
    status = ("尚无备份记录" if last is None else
              f"{to_local_text(last.created_at)} {'成功' if last.success else '失败'}：{last.detail}")
    return {"rows": rows, "folder": str(backup_dir()), "offsite": str(offsite_dir() or "未配置"),
            "last": status, "ok": bool(last and last.success)}


def run_now(ctx: UserContext) -> Backup:
    scope.require_global(ctx, PERMISSION)
    return create(ctx.username, "page")
