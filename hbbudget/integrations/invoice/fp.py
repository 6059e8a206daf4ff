"""The 2019 (and 2016) e-invoice XML of the `fp:` namespace (http://www.edrm.org.cn/schema/e-invoice/...).

Root `eInvoice`; fields InvoiceCode, InvoiceNo, IssueDate (2020年08月05日), Buyer/BuyerName, BuyerTaxID,
Seller/SellerName, SellerTaxID, TaxExclusiveTotalAmount, TaxTotalAmount, TaxInclusiveTotalAmount, and
GoodsInfos/GoodsInfo (Item, Amount, TaxScheme, TaxAmount). GraphCode's second field is the invoice type.
"""

from __future__ import annotations

from lxml import etree

from hbbudget.integrations.invoice import xmlsafe
from hbbudget.integrations.invoice.records import Invoice, build, item, kind_of

NAMESPACE = "http://www.edrm.org.cn/schema/e-invoice/"
FIELDS = {
    "code": "InvoiceCode", "number": "InvoiceNo", "date": "IssueDate", "buyer_name": "BuyerName",
    "buyer_tax_id": "BuyerTaxID", "seller_name": "SellerName", "seller_tax_id": "SellerTaxID",
    "amount": "TaxExclusiveTotalAmount", "tax": "TaxTotalAmount", "total": "TaxInclusiveTotalAmount",
}


def matches(root: etree._Element) -> bool:
    if xmlsafe.local(root) != "eInvoice":
        return False
    spaces = {*root.nsmap.values(), etree.QName(root).namespace}
    return any((ns or "").startswith(NAMESPACE) for ns in spaces)


def parse(root: etree._Element, source_format: str = "fp-xml") -> Invoice:
    fields = {key: xmlsafe.text(root, name) for key, name in FIELDS.items()}
    items = [item(xmlsafe.text(g, "Item"), xmlsafe.text(g, "Amount"), xmlsafe.text(g, "TaxScheme"),
                  xmlsafe.text(g, "TaxAmount"))
             for g in xmlsafe.children(root, "GoodsInfo")]
    graph = xmlsafe.text(root, "GraphCode").split(",")
    kind = kind_of(fields["code"].strip(), fields["number"].strip(), graph[1].strip() if len(graph) > 1 else "")
    return build(fields, items, kind=kind, source_format=source_format)
