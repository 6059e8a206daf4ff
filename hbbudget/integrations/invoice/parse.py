"""One entry point: invoice bytes (OFD zip or XML) → Invoice, whatever the format."""

from __future__ import annotations

from hbbudget.integrations.invoice import fp, ofd, sdp, xbrl, xmlsafe
from hbbudget.integrations.invoice.records import MAX_BYTES, Invoice, InvoiceFormatError

LOOKED_FOR = ("OFD 版式发票（zip，含 OFD.xml）、2019 版电子发票 XML（fp: 命名空间 eInvoice）、"
              "数电票 XML（EInvoice/EInvoiceData）或财政部电子凭证 XBRL 实例（xbrli:xbrl）")


class UnknownFormat(InvoiceFormatError):
    """The file is none of the formats read here (the CLI exits 2)."""


def parse_invoice(data: bytes, max_bytes: int = MAX_BYTES) -> Invoice:
    if len(data) > max_bytes:
        raise InvoiceFormatError(f"文件过大：{len(data)} 字节，上限 {max_bytes} 字节")
    if ofd.is_zip(data):
        return ofd.parse(data)
    if not _looks_like_xml(data):
        raise UnknownFormat(f"无法识别的发票文件：应为 {LOOKED_FOR}")
    root = xmlsafe.parse(data, "发票 XML ", max_bytes)
    for reader in (fp, sdp, xbrl):
        if reader.matches(root):
            return reader.parse(root)
    raise UnknownFormat(f"无法识别的发票 XML（根元素 {xmlsafe.local(root)[:40]}）：应为 {LOOKED_FOR}")


def _looks_like_xml(data: bytes) -> bool:
    head = data[:4]
    if head[:3] == b"\xef\xbb\xbf" or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    return data.lstrip()[:1] == b"<"
