"""`hbbudget bank parse FILE`: the JSON document on stdout, or exit 1 with a Chinese message."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hbbudget.integrations.bank import cli
from hbbudget.integrations.bank.cli import main
from tests.unit.execution.test_bank_json import page, record
from tests.unit.execution.test_camt import BILLION_LAUGHS, bal, camt, ntry, stmt, xxe

ENTRY_KEYS = {"ref", "booking_date", "amount", "currency", "status", "reversal", "counterparty", "remittance"}


def sample_path(shared_dir: str) -> str:
    return os.path.join(shared_dir, "samples", "camt", "postfinance_camt053v04_testfile-2016_dvbern.xml")


def test_camt_sample_prints_the_document(shared_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", sample_path(shared_dir)]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    [s] = doc["statements"]
    assert set(s) == {"account", "currency", "opening", "closing", "reconciles", "entries"}
    assert (s["account"], s["opening"], s["closing"], s["reconciles"]) == (
        "CH0309000000250090342", "322152.16", "322689.77", True)
    assert len(s["entries"]) == 13 and all(set(e) == ENTRY_KEYS for e in s["entries"])
    assert s["entries"][0]["amount"] == "-24.00" and s["entries"][0]["booking_date"] == "2016-04-30"
    assert "FÜR" in out and err == ""  # ensure_ascii=False, no warning


def test_json_page_auto_detected_and_forced(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(b"\n  " + page([record("S1", "12.30", "C")]))
    for argv in (["parse", str(path)], ["parse", str(path), "--format", "json"]):
        assert main(argv) == 0
        [s] = json.loads(capsys.readouterr().out)["statements"]
        assert s["reconciles"] is None and s["entries"][0]["amount"] == "12.30"
        assert s["entries"][0]["counterparty"] == "石家庄某某科技有限公司"


def test_statement_that_does_not_reconcile_warns(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.xml"
    path.write_bytes(camt(stmt(ntry("1.00", ref="R"), bal("OPBD", "10") + bal("CLBD", "10"))))
    assert main(["parse", str(path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["statements"][0]["reconciles"] is False
    assert "警告" in err


@pytest.mark.parametrize(
    ("content", "argv_extra", "needle"),
    [
        (None, [], "文件不存在"),
        (BILLION_LAUGHS, [], "禁止 DTD"),
        (xxe("file:///etc/passwd"), [], "禁止 DTD"),
        (b"PK\x03\x04 a zip", [], "无法识别文件格式"),
        (b"<Document><BkToCstmrStmt>", [], "不是有效的 camt XML"),
        (b"<Document/>", ["--format", "json"], "不是有效的交易明细 JSON"),
    ],
)
def test_unreadable_files_exit_1(tmp_path, capsys, content, argv_extra, needle) -> None:
    path = tmp_path / "input"
    if content is not None:
        path.write_bytes(content)
    assert main(["parse", str(path), *argv_extra]) == 1
    out, err = capsys.readouterr()
    assert out == "" and needle in err
    assert "Traceback" not in err and "root:" not in err


def test_oversized_file_is_not_read(tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(camt(stmt(ntry("1", ref="R"))))
    monkeypatch.setattr(cli, "MAX_BYTES", 100)
    assert main(["parse", str(path)]) == 1
    assert "文件过大" in capsys.readouterr().err
    if os.path.exists("/dev/zero"):  # endless input is read only up to the limit
        assert main(["parse", "/dev/zero"]) == 1
        assert "文件过大" in capsys.readouterr().err


def test_bad_arguments_return_usage_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse"]) == 2
    assert main(["parse", "x", "--format", "pdf"]) == 2


def test_module_entry_point(shared_dir: str, tmp_path) -> None:
    run = [sys.executable, "-m", "hbbudget.integrations.bank.cli", "parse"]
    ok = subprocess.run([*run, sample_path(shared_dir)], capture_output=True, timeout=60)
    assert ok.returncode == 0 and len(json.loads(ok.stdout)["statements"][0]["entries"]) == 13
    missing = subprocess.run([*run, str(tmp_path / "nope.xml")], capture_output=True, timeout=60)
    assert missing.returncode == 1 and "文件不存在" in missing.stderr.decode("utf-8")
