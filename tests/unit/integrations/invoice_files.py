"""Invoices generated for tests: the 2019 fp: XML, 数电票 XML, MOF XBRL, and OFD zips built three ways."""

from __future__ import annotations

import io
import zipfile

FP_NS = "http://www.edrm.org.cn/schema/e-invoice/2019"
OFD_NS = "http://www.ofdspec.org/2016"
GOODS = [("*信息技术服务*软件服务", "1000.00", "6%", "60.00"), ("*办公用品*打印纸", "200.00", "13%", "26.00")]


def fp_xml(number: str = "12345678", code: str = "013001900111", *, encoding: str = "utf-8", bom: bool = False,
           buyer_tax_id: str | None = "12130000MB0000001X", goods=GOODS, extra: str = "") -> bytes:
    amount = sum(float(g[1]) for g in goods)
    tax = sum(float(g[3] or 0) for g in goods)
    buyer_tax = "" if buyer_tax_id is None else f"<fp:BuyerTaxID>{buyer_tax_id}</fp:BuyerTaxID>"
    lines = "".join(f"<fp:GoodsInfo><fp:Item>{n}</fp:Item><fp:Amount>{a}</fp:Amount><fp:TaxScheme>{r}</fp:TaxScheme>"
                    f"<fp:TaxAmount>{t}</fp:TaxAmount></fp:GoodsInfo>" for n, a, r, t in goods)
    text = (f'<?xml version="1.0" encoding="{encoding}"?>{extra}\n'
            f'<eInvoice xmlns:fp="{FP_NS}" Version="1.0"><fp:InvoiceCode>{code}</fp:InvoiceCode>'
            f"<fp:InvoiceNo>{number}</fp:InvoiceNo><fp:IssueDate>2026年03月09日</fp:IssueDate>"
            f"<fp:Buyer><fp:BuyerName>河北省测试厅</fp:BuyerName>{buyer_tax}</fp:Buyer>"
            "<fp:Seller><fp:SellerName>石家庄华北办公用品有限公司</fp:SellerName>"
            "<fp:SellerTaxID>91130100MA0000001A</fp:SellerTaxID></fp:Seller>"
            f"<fp:TaxInclusiveTotalAmount>{amount + tax:.2f}</fp:TaxInclusiveTotalAmount>"
            f"<fp:TaxTotalAmount>{tax:.2f}</fp:TaxTotalAmount>"
            f"<fp:TaxExclusiveTotalAmount>{amount:.2f}</fp:TaxExclusiveTotalAmount>"
            f"<fp:GraphCode>01,10,{code},{number},{amount:.2f},20260309,1234,ABCD</fp:GraphCode>"
            f"<fp:GoodsInfos>{lines}</fp:GoodsInfos></eInvoice>")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def sdp_xml(number: str = "26132000000012345678", *, label: str = "普通发票", encoding: str = "utf-8") -> bytes:
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n<EInvoice><Header><EIid>{number}</EIid>'
            f"<InherentLabel><EInvoiceType><LabelCode>02</LabelCode><LabelName>{label}</LabelName></EInvoiceType>"
            "</InherentLabel></Header><EInvoiceData>"
            "<SellerInformation><SellerIdNum>91130100MA0000002B</SellerIdNum><SellerName>河北智联科技服务有限公司</SellerName>"
            "</SellerInformation><BuyerInformation><BuyerIdNum>12130000MB0000001X</BuyerIdNum>"
            "<BuyerName>河北省测试厅</BuyerName></BuyerInformation>"
            "<BasicInformation><TotalAmWithoutTax>1500.00</TotalAmWithoutTax><TotalTaxAm>90.00</TotalTaxAm>"
            "<TotalTax-includedAmount>1590.00</TotalTax-includedAmount><RequestTime>2026-04-01 09:30:00</RequestTime>"
            "</BasicInformation>"
            "<IssuItemInformation><ItemName>*信息技术服务*运维服务</ItemName><Amount>1000.00</Amount>"
            "<TaxRate>0.06</TaxRate><ComTaxAm>60.00</ComTaxAm></IssuItemInformation>"
            "<IssuItemInformation><ItemName>*信息技术服务*培训服务</ItemName><Amount>500.00</Amount>"
            "<TaxRate>0.06</TaxRate><ComTaxAm>30.00</ComTaxAm></IssuItemInformation>"
            "</EInvoiceData><TaxSupervisionInfo>"
            f"<InvoiceNumber>{number}</InvoiceNumber><IssueTime>2026-04-01</IssueTime></TaxSupervisionInfo></EInvoice>")
    return text.encode(encoding)


def xbrl_xml(number: str = "26132000000087654321") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:iso4217="http://www.xbrl.org/2003/iso4217"'
        ' xmlns:ev="http://xbrl.mof.gov.cn/taxonomy/ev">'
        '<xbrli:context id="c"><xbrli:entity><xbrli:identifier scheme="http://www.mof.gov.cn">X</xbrli:identifier>'
        "</xbrli:entity><xbrli:period><xbrli:instant>2026-05-06</xbrli:instant></xbrli:period></xbrli:context>"
        '<xbrli:unit id="CNY"><xbrli:measure>iso4217:CNY</xbrli:measure></xbrli:unit>'
        f'<ev:InvoiceNumber contextRef="c">{number}</ev:InvoiceNumber>'
        '<ev:DateOfIssue contextRef="c">2026-05-06</ev:DateOfIssue>'
        '<ev:SellerName contextRef="c">唐山冀东仪器设备有限公司</ev:SellerName>'
        '<ev:SellerTaxID contextRef="c">91130200MA0000003C</ev:SellerTaxID>'
        '<ev:BuyerName contextRef="c">河北省测试厅</ev:BuyerName>'
        '<ev:TotalAmountExcludingTax contextRef="c" unitRef="CNY" decimals="2">2000.00</ev:TotalAmountExcludingTax>'
        '<ev:TotalTaxAmount contextRef="c" unitRef="CNY" decimals="2">260.00</ev:TotalTaxAmount>'
        '<ev:TotalAmountIncludingTax contextRef="c" unitRef="CNY" decimals="2">2260.00</ev:TotalAmountIncludingTax>'
        '<ev:GoodsOrServicesDetail><ev:NameOfGoodsOrServices contextRef="c">*仪器仪表*万用表</ev:NameOfGoodsOrServices>'
        '<ev:Amount contextRef="c" unitRef="CNY" decimals="2">2000.00</ev:Amount>'
        '<ev:TaxRate contextRef="c" unitRef="CNY" decimals="2">0.13</ev:TaxRate>'
        '<ev:TaxAmount contextRef="c" unitRef="CNY" decimals="2">260.00</ev:TaxAmount></ev:GoodsOrServicesDetail>'
        "</xbrli:xbrl>").encode()


def _ofd_xml(custom: dict[str, str] | None = None) -> str:
    data = "".join(f'<ofd:CustomData Name="{k}">{v}</ofd:CustomData>' for k, v in (custom or {}).items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" DocType="OFD" Version="1.1">'
            f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID><ofd:CustomDatas>{data}</ofd:CustomDatas>"
            "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")


def _page(objects: dict[str, str]) -> str:
    body = "".join(f'<ofd:TextObject ID="{i}" Boundary="0 0 10 5" Font="1" Size="3">'
                   f'<ofd:TextCode X="0" Y="3">{t}</ofd:TextCode></ofd:TextObject>' for i, t in objects.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer>'
            f"{body}</ofd:Layer></ofd:Content></ofd:Page>")


def zip_bytes(parts: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body.encode() if isinstance(body, str) else body)
    return buf.getvalue()


def ofd_with_attachment(xml: bytes) -> bytes:
    return zip_bytes({"OFD.xml": _ofd_xml(), "Doc_0/Document.xml": _document(1), "Doc_0/Attachs/invoice.xml": xml})


def _document(pages: int) -> str:
    listed = "".join(f'<ofd:Page ID="{n}" BaseLoc="Pages/Page_{n - 1}/Content.xml"/>' for n in range(1, pages + 1))
    return f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}"><ofd:Pages>{listed}</ofd:Pages></ofd:Document>'


def ofd_with_tags(number: str = "26132000000011112222", *, code: str = "") -> bytes:
    """A 数电票 OFD with custom tags pointing at text objects; the second goods line is on page 2."""
    page1 = {"1": number, "2": "2026年06月01日", "3": "河北省测试厅", "4": "12130000MB0000001X",
             "5": "石家庄京铁旅行服务有限公司", "6": "91130100MA0000004D", "7": "¥1,100.00", "8": "¥66.00",
             "9": "¥1,166.00", "10": "*旅游服务*住宿费", "11": "1000.00", "12": "6%", "13": "60.00"}
    if code:
        page1["14"] = code
    page2 = {"1": "*旅游服务*会议室租赁", "2": "100.00", "3": "6%", "4": "6.00"}

    def ref(page: int, oid: str) -> str:
        return f'<ofd:ObjectRef PageRef="{page}">{oid}</ofd:ObjectRef>'

    tags = (f'<?xml version="1.0" encoding="UTF-8"?><fp:eInvoice xmlns:fp="{FP_NS}" xmlns:ofd="{OFD_NS}">'
            + (f"<fp:InvoiceCode>{ref(1, '14')}</fp:InvoiceCode>" if code else "")
            + f"<fp:InvoiceNo>{ref(1, '1')}</fp:InvoiceNo><fp:IssueDate>{ref(1, '2')}</fp:IssueDate>"
            f"<fp:Buyer><fp:BuyerName>{ref(1, '3')}</fp:BuyerName><fp:BuyerTaxID>{ref(1, '4')}</fp:BuyerTaxID></fp:Buyer>"
            f"<fp:Seller><fp:SellerName>{ref(1, '5')}</fp:SellerName><fp:SellerTaxID>{ref(1, '6')}</fp:SellerTaxID></fp:Seller>"
            f"<fp:TaxExclusiveTotalAmount>{ref(1, '7')}</fp:TaxExclusiveTotalAmount>"
            f"<fp:TaxTotalAmount>{ref(1, '8')}</fp:TaxTotalAmount>"
            f"<fp:TaxInclusiveTotalAmount>{ref(1, '9')}</fp:TaxInclusiveTotalAmount><fp:GoodsInfos>"
            f"<fp:GoodsInfo><fp:Item>{ref(1, '10')}</fp:Item><fp:Amount>{ref(1, '11')}</fp:Amount>"
            f"<fp:TaxScheme>{ref(1, '12')}</fp:TaxScheme><fp:TaxAmount>{ref(1, '13')}</fp:TaxAmount></fp:GoodsInfo>"
            f"<fp:GoodsInfo><fp:Item>{ref(2, '1')}</fp:Item><fp:Amount>{ref(2, '2')}</fp:Amount>"
            f"<fp:TaxScheme>{ref(2, '3')}</fp:TaxScheme><fp:TaxAmount>{ref(2, '4')}</fp:TaxAmount></fp:GoodsInfo>"
            "</fp:GoodsInfos></fp:eInvoice>")
    index = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:CustomTags xmlns:ofd="{OFD_NS}">'
             '<ofd:CustomTag TypeID="invoice"><ofd:FileLoc>Tag_Invoice.xml</ofd:FileLoc></ofd:CustomTag></ofd:CustomTags>')
    return zip_bytes({"OFD.xml": _ofd_xml(), "Doc_0/Document.xml": _document(2),
                      "Doc_0/Pages/Page_0/Content.xml": _page(page1), "Doc_0/Pages/Page_1/Content.xml": _page(page2),
                      "Doc_0/Tags/CustomTags.xml": index, "Doc_0/Tags/Tag_Invoice.xml": tags})


def ofd_with_custom_data(**overrides: str) -> bytes:
    custom = {"发票代码": "013001900211", "发票号码": "87654321", "开票日期": "2026年07月02日", "合计金额": "500.00",
              "价税合计": "530.00", "购买方名称": "河北省测试厅", "销售方名称": "河北恒信物业服务有限公司",
              "销售方纳税人识别号": "91130100MA0000005E"}
    custom.update(overrides)
    return zip_bytes({"OFD.xml": _ofd_xml({k: v for k, v in custom.items() if v}),
                      "Doc_0/Document.xml": _document(0)})
