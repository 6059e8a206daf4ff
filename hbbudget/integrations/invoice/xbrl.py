"""The MOF 电子凭证会计数据标准 XBRL instance of an invoice (an `xbrli:xbrl` root with facts carrying contextRef).

Facts are read by concept local name; goods lines are the tuples (elements without contextRef) that hold an item
name fact. The concept names below are OUR ASSUMPTION from the standard's published field list (no real instance
was available to test against; see docs/fincloud.md): each field accepts the listed spellings.
"""

from __future__ import annotations

from lxml import etree

from hbbudget.integrations.invoice import xmlsafe
from hbbudget.integrations.invoice.records import Invoice, build, item, kind_of

INSTANCE = "http://www.xbrl.org/2003/instance"
CONCEPTS = {
    "code": ("InvoiceCode",),
    "number": ("InvoiceNumber", "InvoiceNo", "ElectronicInvoiceNumber"),
    "date": ("DateOfIssue", "IssueDate", "InvoicingDate"),
    "seller_name": ("SellerName", "NameOfSeller"),
    "seller_tax_id": ("SellerTaxID", "SellerIdNum", "UnifiedSocialCreditCodeOrTaxpayerIdentificationNumberOfSeller"),
    "buyer_name": ("BuyerName", "NameOfBuyer"),
    "buyer_tax_id": ("BuyerTaxID", "BuyerIdNum", "UnifiedSocialCreditCodeOrTaxpayerIdentificationNumberOfBuyer"),
    "amount": ("TotalAmountExcludingTax", "TotalAmWithoutTax", "TaxExclusiveTotalAmount"),
    "tax": ("TotalTaxAmount", "TotalTaxAm", "TaxTotalAmount"),
    "total": ("TotalAmountIncludingTax", "TotalTax-includedAmount", "TaxInclusiveTotalAmount"),
}
ITEM = {
    "name": ("NameOfGoodsOrServices", "ItemName", "Item"),
    "amount": ("Amount", "AmountOfGoodsOrServices"),
    "rate": ("TaxRate", "TaxScheme"),
    "tax": ("TaxAmount", "ComTaxAm"),
}


def matches(root: etree._Element) -> bool:
    return xmlsafe.local(root) == "xbrl" and etree.QName(root).namespace == INSTANCE


def parse(root: etree._Element, source_format: str = "mof-xbrl") -> Invoice:
    facts: dict[str, str] = {}
    tuples = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el is root:
            continue
        if el.get("contextRef") is not None:
            facts.setdefault(xmlsafe.local(el), "".join(el.itertext()).strip())
        elif any(xmlsafe.local(c) in ITEM["name"] for c in el):
            tuples.append(el)
    fields = {key: next((facts[n] for n in names if n in facts), "") for key, names in CONCEPTS.items()}
    items = []
    for t in tuples:
        own = {xmlsafe.local(c): "".join(c.itertext()).strip() for c in t}
        name, amount, rate, tax = (next((own[n] for n in names if n in own), "") for names in ITEM.values())
        items.append(item(name, amount, rate, tax))
    kind = kind_of(fields["code"].strip(), fields["number"].strip())
    return build(fields, items, kind=kind, source_format=source_format)
