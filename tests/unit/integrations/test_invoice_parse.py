"""Invoice parsers on the shared samples and on generated files, and `hbbudget invoice parse`."""

from __future__ import annotations

import json
import os
import zipfile
from decimal import Decimal

import pytest

from hbbudget import cli as hbb_cli
from hbbudget.integrations.invoice.cli import main
from hbbudget.integrations.invoice.parse import UnknownFormat, parse_invoice
from hbbudget.integrations.invoice.records import InvoiceFormatError, to_json
from tests.unit.integrations import invoice_files as gen

KEYS = {"kind", "code", "number", "date", "seller_name", "seller_tax_id", "buyer_name", "buyer_tax_id", "amount",
        "tax", "total", "items", "source_format"}
XXE = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def sample(shared_dir: str, name: str) -> bytes:
    with open(os.path.join(shared_dir, "samples", "invoice", name), "rb") as f:
        return f.read()


def doc(data: bytes) -> dict:
    d = to_json(parse_invoice(data))
    assert set(d) == KEYS
    return d


def test_sample_ofd_reads_the_embedded_invoice_xml(shared_dir: str) -> None:
    d = doc(sample(shared_dir, "einvoice2020_test-env.ofd"))
    assert d == {
        "kind": "增值税电子普通发票", "code": "050001700111", "number": "99999951", "date": "2020-10-10",
        "seller_name": "杭州融易算企业管理咨询有限公司", "seller_tax_id": "91500106MA2CE71F65",
        "buyer_name": "科游迈利有限公司", "buyer_tax_id": "9150010807MGZHI002",
        "amount": "300.00", "tax": "18.00", "total": "318.00",
        "items": [{"name": "*餐饮服务*餐费", "amount": "100.00", "tax_rate": "6%", "tax": "6.00"}] * 3,
        "source_format": "ofd/fp-xml",
    }


def test_sample_multipage_xml_has_every_goods_line(shared_dir: str) -> None:
    d = doc(sample(shared_dir, "einvoice2020_multipage_extracted.xml"))  # starts with a UTF-8 BOM
    assert (d["code"], d["number"], d["date"], d["buyer_name"], d["buyer_tax_id"]) == (
        "050001700111", "12235358", "2020-08-05", "个人", "")
    assert (d["amount"], d["tax"], d["total"], d["source_format"]) == ("10000.00", "600.00", "10600.00", "fp-xml")
    assert len(d["items"]) == 100
    assert sum(Decimal(i["amount"]) for i in d["items"]) == Decimal(d["amount"])
    assert sum(Decimal(i["tax"]) for i in d["items"]) == Decimal(d["tax"])


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("GBK", False), ("GB18030", False)])
def test_fp_xml_every_field_in_each_encoding(encoding: str, bom: bool) -> None:
    d = doc(gen.fp_xml(encoding=encoding, bom=bom))
    assert d == {
        "kind": "增值税电子普通发票", "code": "013001900111", "number": "12345678", "date": "2026-03-09",
        "seller_name": "石家庄华北办公用品有限公司", "seller_tax_id": "91130100MA0000001A",
        "buyer_name": "河北省测试厅", "buyer_tax_id": "12130000MB0000001X",
        "amount": "1200.00", "tax": "86.00", "total": "1286.00",
        "items": [{"name": "*信息技术服务*软件服务", "amount": "1000.00", "tax_rate": "6%", "tax": "60.00"},
                  {"name": "*办公用品*打印纸", "amount": "200.00", "tax_rate": "13%", "tax": "26.00"}],
        "source_format": "fp-xml",
    }


def test_missing_optional_fields_are_blank() -> None:
    d = doc(gen.fp_xml(buyer_tax_id=None, goods=[("x", "10.00", "", "")]))
    assert d["buyer_tax_id"] == "" and d["items"] == [{"name": "x", "amount": "10.00", "tax_rate": "", "tax": "0.00"}]
    custom = doc(gen.ofd_with_custom_data())  # no 购买方纳税人识别号, no 合计税额: tax = total - amount
    assert (custom["buyer_tax_id"], custom["tax"], custom["items"]) == ("", "30.00", [])
    assert custom["source_format"] == "ofd/custom-data" and custom["date"] == "2026-07-02"


def test_sdp_xml_twenty_digit_number_and_no_code() -> None:
    d = doc(gen.sdp_xml(label="增值税专用发票"))
    assert d == {
        "kind": "数电票（增值税专用发票）", "code": "", "number": "26132000000012345678", "date": "2026-04-01",
        "seller_name": "河北智联科技服务有限公司", "seller_tax_id": "91130100MA0000002B",
        "buyer_name": "河北省测试厅", "buyer_tax_id": "12130000MB0000001X",
        "amount": "1500.00", "tax": "90.00", "total": "1590.00",
        "items": [{"name": "*信息技术服务*运维服务", "amount": "1000.00", "tax_rate": "6%", "tax": "60.00"},
                  {"name": "*信息技术服务*培训服务", "amount": "500.00", "tax_rate": "6%", "tax": "30.00"}],
        "source_format": "sdp-xml",
    }
    assert doc(gen.sdp_xml(encoding="GBK"))["seller_name"] == "河北智联科技服务有限公司"


def test_xbrl_voucher() -> None:
    d = doc(gen.xbrl_xml())
    assert (d["kind"], d["code"], d["number"], d["date"]) == ("数电票", "", "26132000000087654321", "2026-05-06")
    assert (d["seller_name"], d["seller_tax_id"], d["buyer_name"]) == (
        "唐山冀东仪器设备有限公司", "91130200MA0000003C", "河北省测试厅")
    assert (d["amount"], d["tax"], d["total"], d["source_format"]) == ("2000.00", "260.00", "2260.00", "mof-xbrl")
    assert d["items"] == [{"name": "*仪器仪表*万用表", "amount": "2000.00", "tax_rate": "13%", "tax": "260.00"}]


def test_ofd_custom_tags_follow_text_objects_onto_the_second_page() -> None:
    d = doc(gen.ofd_with_tags())
    assert (d["kind"], d["code"], d["number"], d["date"]) == ("数电票", "", "26132000000011112222", "2026-06-01")
    assert (d["buyer_name"], d["buyer_tax_id"], d["seller_name"], d["seller_tax_id"]) == (
        "河北省测试厅", "12130000MB0000001X", "石家庄京铁旅行服务有限公司", "91130100MA0000004D")
    assert (d["amount"], d["tax"], d["total"], d["source_format"]) == ("1100.00", "66.00", "1166.00", "ofd/custom-tags")
    assert d["items"] == [{"name": "*旅游服务*住宿费", "amount": "1000.00", "tax_rate": "6%", "tax": "60.00"},
                          {"name": "*旅游服务*会议室租赁", "amount": "100.00", "tax_rate": "6%", "tax": "6.00"}]


def test_ofd_with_an_embedded_sdp_xml() -> None:
    d = doc(gen.ofd_with_attachment(gen.sdp_xml()))
    assert d["number"] == "26132000000012345678" and d["source_format"] == "ofd/sdp-xml"


@pytest.mark.parametrize("data,message", [
    (gen.zip_bytes({"OFD.xml": "<a/>"})[:-30], "zip 结构损坏"),
    (b"PK\x03\x04" + b"\x00" * 100, "zip 结构损坏"),
    (gen.zip_bytes({"a.xml": "<a/>"}), "没有 OFD.xml"),
    (gen.zip_bytes({"OFD.xml": b"<a/>", "Doc_0/Res/bomb.bin": b"\0" * (25 * 1024 * 1024)}), "压缩炸弹"),
    (gen.zip_bytes({"OFD.xml": b"<a/>", "Doc_0/Res/bomb.bin": b"\0" * (3 * 1024 * 1024)}), "压缩比异常"),
    (gen.ofd_with_custom_data(发票号码=""), "OFD 中没有发票数据"),
    (gen.ofd_with_custom_data(合计税额="30.00", 价税合计="600.00"), "金额不一致"),
    (gen.ofd_with_custom_data(开票日期="明天"), "开票日期无效"),
    (gen.fp_xml(number="1234"), "发票号码格式不对"),
])
def test_bad_files_are_refused_with_a_chinese_reason(data: bytes, message: str) -> None:
    with pytest.raises(InvoiceFormatError, match=message):
        parse_invoice(data)


def test_zip_bomb_is_refused_while_reading(monkeypatch) -> None:
    """The directory's sizes are not trusted: a member that claims 10 bytes is still cut at the limit."""
    data = gen.zip_bytes({"OFD.xml": b"<a/>", "Doc_0/big.xml": b"\0" * (25 * 1024 * 1024)})
    real = zipfile.ZipFile.infolist

    def lying(self):
        infos = real(self)
        for i in infos:
            i.file_size = 10
        return infos
    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    with pytest.raises(InvoiceFormatError, match="压缩炸弹|无法解压"):
        parse_invoice(data)


@pytest.mark.parametrize("data", [
    gen.fp_xml(extra=XXE),
    gen.fp_xml(extra=XXE).decode().replace('encoding="utf-8"', 'encoding="UTF-16"').encode("utf-16"),
    gen.ofd_with_attachment(gen.fp_xml(extra=XXE)),
    gen.zip_bytes({"OFD.xml": f'<?xml version="1.0"?>{XXE}<r>&x;</r>'}),
])
def test_xxe_is_refused(data: bytes) -> None:
    with pytest.raises(InvoiceFormatError, match="禁止 DTD/实体声明") as err:
        parse_invoice(data)
    assert "root:" not in str(err.value)


@pytest.mark.parametrize("data", [b"%PDF-1.7\n...", b"<html><body>hi</body></html>", b"hello", b"\xef\xbb\xbf<x/>"])
def test_unknown_format_names_what_was_looked_for(data: bytes) -> None:
    with pytest.raises(UnknownFormat, match="OFD.*fp:.*数电票.*XBRL"):
        parse_invoice(data)


def test_cli_prints_one_json_object_per_invoice(shared_dir: str, tmp_path, capsys) -> None:
    paths = [os.path.join(shared_dir, "samples", "invoice", n)
             for n in ("einvoice2020_test-env.ofd", "einvoice2020_multipage_extracted.xml")]
    assert hbb_cli.main(["invoice", "parse", *paths]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    assert [json.loads(line)["number"] for line in lines] == ["99999951", "12235358"]
    assert "科游迈利有限公司" in out  # ensure_ascii=False


def test_cli_exit_codes(tmp_path, capsys) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4 nothing")
    assert main(["parse", str(pdf)]) == 2
    assert "无法识别的发票文件" in capsys.readouterr().err
    bad = tmp_path / "x.xml"
    bad.write_bytes(gen.fp_xml(extra=XXE))
    assert main(["parse", str(bad)]) == 1
    assert "禁止 DTD/实体声明" in capsys.readouterr().err
    assert main(["parse", str(tmp_path / "missing.ofd")]) == 1
    assert "文件不存在" in capsys.readouterr().err
    big = tmp_path / "big.xml"
    big.write_bytes(b"<" + b" " * (10 * 1024 * 1024 + 5))
    assert main(["parse", str(big)]) == 1
    assert "文件过大" in capsys.readouterr().err
