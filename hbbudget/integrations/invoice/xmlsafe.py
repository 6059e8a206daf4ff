"""Hostile-input-safe XML for invoices: no DTD or entities, no network, no huge trees, a size limit.

Byte-order marks and GBK/GB18030 declarations are read by libxml2 itself from the bytes; a DOCTYPE or ENTITY
declaration is refused before parsing (the docinfo check after parsing covers UTF-16 and other encodings).
"""

from __future__ import annotations

import re

from lxml import etree

from hbbudget.integrations.invoice.records import MAX_BYTES, InvoiceFormatError

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
REFUSED = "禁止 DTD/实体声明：拒绝含 DOCTYPE 或 ENTITY 的 XML（可能是 XXE 攻击）"


def parse(data: bytes, what: str, max_bytes: int = MAX_BYTES) -> etree._Element:
    if len(data) > max_bytes:
        raise InvoiceFormatError(f"{what}过大：{len(data)} 字节，上限 {max_bytes} 字节")
    if not data.strip():
        raise InvoiceFormatError(f"{what}为空")
    if _DTD.search(data):
        raise InvoiceFormatError(REFUSED)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvoiceFormatError(f"{what}不是有效的 XML（第 {exc.lineno} 行：{exc.msg}）") from None
    except (etree.LxmlError, ValueError):
        raise InvoiceFormatError(f"{what}不是有效的 XML") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise InvoiceFormatError(REFUSED)
    return root


def local(el: etree._Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def first(root: etree._Element, name: str) -> etree._Element | None:
    """The first element (root included) whose local name is `name`."""
    return next((el for el in root.iter() if local(el) == name), None)


def text(root: etree._Element | None, name: str) -> str:
    el = first(root, name) if root is not None else None
    return "".join(el.itertext()).strip() if el is not None else ""


def children(root: etree._Element, name: str) -> list[etree._Element]:
    return [el for el in root.iter() if local(el) == name]
