"""OFD invoices (GB/T 33190: a zip of XML parts), read in this order:

1. an embedded invoice XML (an attachment, or any XML part) in the 2019 `fp:` or the 数电票 schema;
2. the custom tags (Doc_N/Tags/CustomTags.xml → a tag file whose fields hold `ObjectRef PageRef=".."` ids of
   the text objects printed on the pages; goods lines may sit on any page);
3. the document's CustomData (OFD.xml DocInfo/CustomDatas, Chinese names: 发票号码, 价税合计, ...).

The zip is read defensively: member count, each member's size, the total and the compression ratio are limited
while reading (the sizes in the zip directory are not trusted), and each part goes through xmlsafe.
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree

from hbbudget.integrations.invoice import fp, sdp, xmlsafe
from hbbudget.integrations.invoice.records import Invoice, InvoiceFormatError, build, item, kind_of

MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 60 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
CUSTOM_DATA = {
    "code": "发票代码", "number": "发票号码", "date": "开票日期", "amount": "合计金额", "tax": "合计税额",
    "total": "价税合计", "buyer_name": "购买方名称", "buyer_tax_id": "购买方纳税人识别号",
    "seller_name": "销售方名称", "seller_tax_id": "销售方纳税人识别号",
}
TAGS = {
    "code": ("InvoiceCode",), "number": ("InvoiceNo", "InvoiceNumber"), "date": ("IssueDate", "IssueTime"),
    "buyer_name": ("BuyerName",), "buyer_tax_id": ("BuyerTaxID", "BuyerIdNum"),
    "seller_name": ("SellerName",), "seller_tax_id": ("SellerTaxID", "SellerIdNum"),
    "amount": ("TaxExclusiveTotalAmount", "TotalAmWithoutTax"), "tax": ("TaxTotalAmount", "TotalTaxAm"),
    "total": ("TaxInclusiveTotalAmount", "TotalTax-includedAmount"),
}


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def parse(data: bytes) -> Invoice:
    parts = _read_zip(data)
    if "OFD.xml" not in parts:
        raise InvoiceFormatError("不是有效的 OFD 文件：zip 中没有 OFD.xml")
    for name in sorted(n for n in parts if n.lower().endswith(".xml") and "/Attachs/" in f"/{n}"):
        root = xmlsafe.parse(parts[name], f"OFD 附件 {name} ")
        if fp.matches(root):
            return fp.parse(root, "ofd/fp-xml")
        if sdp.matches(root):
            return sdp.parse(root, "ofd/sdp-xml")
    ofd_root = xmlsafe.parse(parts["OFD.xml"], "OFD.xml ")
    doc_root = xmlsafe.text(ofd_root, "DocRoot").lstrip("/")
    if doc_root:
        invoice = _from_tags(parts, doc_root)
        if invoice is not None:
            return invoice
    custom = {el.get("Name", ""): "".join(el.itertext()).strip() for el in xmlsafe.children(ofd_root, "CustomData")}
    fields = {key: custom.get(name, "") for key, name in CUSTOM_DATA.items()}
    if not fields["number"]:
        raise InvoiceFormatError("OFD 中没有发票数据：既无内嵌发票 XML，也无自定义标签或 CustomData 发票号码")
    return build(fields, [], kind=kind_of(fields["code"].strip(), "".join(fields["number"].split())),
                 source_format="ofd/custom-data")


def _read_zip(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InvoiceFormatError("不是有效的 OFD 文件：zip 结构损坏") from None
    if len(members) > MAX_MEMBERS:
        raise InvoiceFormatError(f"OFD 文件异常：包含 {len(members)} 个部件，上限 {MAX_MEMBERS}")
    parts: dict[str, bytes] = {}
    total = 0
    for info in members:
        if info.is_dir():
            continue
        name = posixpath.normpath(info.filename.replace("\\", "/")).lstrip("/")
        try:
            with archive.open(info) as f:
                body = f.read(MAX_MEMBER_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, OSError):
            raise InvoiceFormatError(f"不是有效的 OFD 文件：部件 {name[:80]} 无法解压") from None
        total += len(body)
        if len(body) > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise InvoiceFormatError("OFD 文件解压后过大，已拒绝（疑似压缩炸弹）")
        if len(body) > 1024 * 1024 and len(body) > MAX_RATIO * max(info.compress_size, 1):
            raise InvoiceFormatError("OFD 文件压缩比异常，已拒绝（疑似压缩炸弹）")
        parts[name] = body
    return parts


def _from_tags(parts: dict[str, bytes], doc_root: str) -> Invoice | None:
    base = posixpath.dirname(doc_root)
    tags_name = posixpath.join(base, "Tags", "CustomTags.xml")
    if tags_name not in parts:
        return None
    tags_dir = posixpath.dirname(tags_name)
    index = xmlsafe.parse(parts[tags_name], "CustomTags.xml ")
    for loc in xmlsafe.children(index, "FileLoc"):
        tag_file = posixpath.normpath(posixpath.join(tags_dir, "".join(loc.itertext()).strip()))
        if tag_file not in parts:
            continue
        tag_root = xmlsafe.parse(parts[tag_file], f"{tag_file} ")
        if not any(xmlsafe.local(el) == "ObjectRef" for el in tag_root.iter()):
            continue
        texts = _page_texts(parts, doc_root)

        def value(el: etree._Element | None) -> str:
            refs = [] if el is None else [r for r in el.iter() if xmlsafe.local(r) == "ObjectRef"]
            return "".join(texts.get((r.get("PageRef", ""), "".join(r.itertext()).strip()), "") for r in refs)

        fields = {key: next((v for n in names if (v := value(xmlsafe.first(tag_root, n)))), "")
                  for key, names in TAGS.items()}
        items = [item(value(xmlsafe.first(g, "Item")) or value(xmlsafe.first(g, "ItemName")),
                      value(xmlsafe.first(g, "Amount")), value(xmlsafe.first(g, "TaxScheme"))
                      or value(xmlsafe.first(g, "TaxRate")), value(xmlsafe.first(g, "TaxAmount")))
                 for g in xmlsafe.children(tag_root, "GoodsInfo")]
        number = "".join(fields["number"].split())
        return build(fields, items, kind=kind_of("".join(fields["code"].split()), number),
                     source_format="ofd/custom-tags")
    return None


def _page_texts(parts: dict[str, bytes], doc_root: str) -> dict[tuple[str, str], str]:
    """(page ID, text object ID) → the object's text, for every page the document lists."""
    base = posixpath.dirname(doc_root)
    document = xmlsafe.parse(parts.get(doc_root, b""), f"{doc_root} ")
    texts: dict[tuple[str, str], str] = {}
    for page in xmlsafe.children(document, "Page"):
        loc = posixpath.normpath(posixpath.join(base, page.get("BaseLoc", "")))
        if loc not in parts:
            raise InvoiceFormatError(f"OFD 文件不完整：缺少页面 {loc[:80]}")
        content = xmlsafe.parse(parts[loc], f"{loc} ")
        for obj in xmlsafe.children(content, "TextObject"):
            texts[(page.get("ID", ""), obj.get("ID", ""))] = "".join(
                "".join(code.itertext()) for code in obj if xmlsafe.local(code) == "TextCode").strip()
    return texts
