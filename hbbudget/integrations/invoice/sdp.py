"""The 数电票 (全面数字化的电子发票) XML: root `EInvoice` with Header, EInvoiceData and TaxSupervisionInfo.

EInvoiceData/SellerInformation (SellerIdNum, SellerName), BuyerInformation (BuyerIdNum, BuyerName),
BasicInformation (TotalAmWithoutTax, TotalTaxAm, TotalTax-includedAmount, RequestTime), one
IssuItemInformation per goods line (ItemName, Amount, TaxRate 0.06, ComTaxAm); TaxSupervisionInfo/InvoiceNumber
(20 digits) and IssueTime. Header/InherentLabel/EInvoiceType/LabelName names the kind (增值税专用发票, 普通发票).
"""

from __future__ import annotations

from lxml import etree

from hbbudget.integrations.invoice import xmlsafe
from hbbudget.integrations.invoice.records import Invoice, build, item


def matches(root: etree._Element) -> bool:
    return xmlsafe.local(root) == "EInvoice" and xmlsafe.first(root, "EInvoiceData") is not None


def parse(root: etree._Element, source_format: str = "sdp-xml") -> Invoice:
    supervision = xmlsafe.first(root, "TaxSupervisionInfo")
    fields = {
        "number": xmlsafe.text(supervision, "InvoiceNumber") or xmlsafe.text(root, "EIid"),
        "date": xmlsafe.text(supervision, "IssueTime") or xmlsafe.text(root, "RequestTime"),
        "seller_name": xmlsafe.text(root, "SellerName"), "seller_tax_id": xmlsafe.text(root, "SellerIdNum"),
        "buyer_name": xmlsafe.text(root, "BuyerName"), "buyer_tax_id": xmlsafe.text(root, "BuyerIdNum"),
        "amount": xmlsafe.text(root, "TotalAmWithoutTax"), "tax": xmlsafe.text(root, "TotalTaxAm"),
        "total": xmlsafe.text(root, "TotalTax-includedAmount"),
    }
    items = [item(xmlsafe.text(g, "ItemName"), xmlsafe.text(g, "Amount"), xmlsafe.text(g, "TaxRate"),
                  xmlsafe.text(g, "ComTaxAm"))
             for g in xmlsafe.children(root, "IssuItemInformation")]
    label = xmlsafe.text(xmlsafe.first(root, "EInvoiceType"), "LabelName")
    kind = f"数电票（{label}）" if label else "数电票"
    return build(fields, items, kind=kind, source_format=source_format)
