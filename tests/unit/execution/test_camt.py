"""camt.052/053/054 parsing: the published samples, each quirk in a small hand-written file, hostile input."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal

import pytest

from hbbudget.integrations.bank.camt import parse_camt
from hbbudget.integrations.bank.records import BankFormatError, to_json
from tests.conftest import SHARED

D = Decimal


def sample(shared_dir: str, name: str) -> bytes:
    with open(os.path.join(shared_dir, "samples", "camt", name), "rb") as f:
        return f.read()


def camt(body: str, ns: str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.10", root: str = "BkToCstmrStmt") -> bytes:
    xmlns = f' xmlns="{ns}"' if ns else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document{xmlns}><{root}>'
        f"<GrpHdr><MsgId>M1</MsgId></GrpHdr>{body}</{root}></Document>"
    ).encode()


def stmt(entries: str = "", balances: str = "", account: str = "CN001", ccy: str = "CNY", tag: str = "Stmt") -> str:
    return (
        f"<{tag}><Id>S-{account}</Id><Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>{ccy}</Ccy></Acct>"
        f"{balances}{entries}</{tag}>"
    )


def bal(code: str, amount: str, ind: str | None = "CRDT", ccy: str = "CNY") -> str:
    indicator = f"<CdtDbtInd>{ind}</CdtDbtInd>" if ind else ""
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{ccy}\">{amount}</Amt>{indicator}"
        "<Dt><Dt>2026-03-01</Dt></Dt></Bal>"
    )


def ntry(amount: str, ind: str = "DBIT", sts: str | None = "<Sts>BOOK</Sts>", ref: str | None = None,
         ccy: str = "CNY", extra: str = "", booked: str = "<Dt>2026-03-01</Dt>") -> str:
    return (
        f'<Ntry>{f"<NtryRef>{ref}</NtryRef>" if ref else ""}<Amt Ccy="{ccy}">{amount}</Amt>'
        f"<CdtDbtInd>{ind}</CdtDbtInd>{sts or ''}<BookgDt>{booked}</BookgDt>{extra}</Ntry>"
    )


# --- the published samples (read in place) ---------------------------------------------------------

SAMPLES = sorted(os.listdir(os.path.join(SHARED, "samples", "camt")))


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_parses(shared_dir: str, name: str) -> None:
    statements = parse_camt(sample(shared_dir, name))
    assert statements
    for s in statements:
        assert s.account and s.currency
        for e in s.entries:
            assert isinstance(e.amount, Decimal) and e.ref and e.currency == s.currency
    refs = [e.ref for s in statements for e in s.entries]
    assert len(refs) == len(set(refs))
    json.dumps(to_json(statements), ensure_ascii=False)


def test_iso_business_sample_reconciles(shared_dir: str) -> None:
    [s] = parse_camt(sample(shared_dir, "iso-mdr_camt053v04_business-sample_dvbern.xml"))
    assert (s.message_type, s.account, s.currency) == ("camt.053", "50000000054910000003", "SEK")
    assert (s.opening, s.closing, s.reconciles) == (D("500000"), D("435678.50"), True)
    # the batch (no TxDtls) books its own Amt; BookgDt comes as DtTm
    batch = next(e for e in s.entries if e.ref == "AAAASESS-FP-ACCR-01")
    assert batch.amount == D("-200000") and batch.booking_date == date(2010, 10, 18)
    assert to_json([s])["statements"][0]["opening"] == "500000.00"


def test_postfinance_2016_reversals_not_flipped(shared_dir: str) -> None:
    [s] = parse_camt(sample(shared_dir, "postfinance_camt053v04_testfile-2016_dvbern.xml"))
    assert len(s.entries) == 13
    reversals = [e for e in s.entries if e.reversal]
    assert [e.amount for e in reversals] == [D("-6.00"), D("-15.53")]
    assert (s.opening, s.closing, s.reconciles) == (D("322152.16"), D("322689.77"), True)
    assert any("FÜR" in e.remittance for e in s.entries)


def test_camt054_v08_status_code(shared_dir: str) -> None:
    [s] = parse_camt(sample(shared_dir, "postfinance_camt054v08_sps2019_dvbern.xml"))
    [e] = s.entries
    assert (s.message_type, e.status, e.amount, e.ref) == ("camt.054", "BOOK", D("1692.22"), "1000000000000000")
    assert e.counterparty == "Bernasconi Maria"  # both details name the same debtor


def test_six_pending_entry_without_booking_date(shared_dir: str) -> None:
    [s] = parse_camt(sample(shared_dir, "six-beispiel_camt054v04_reversal-pending_dvbern.xml"))
    reversed_credit, pending, booked = s.entries
    assert pending.status == "PDNG" and pending.booking_date is None and pending.ref == "170557CH00T3HG30"
    assert reversed_credit.reversal and reversed_credit.amount == D("111.00")
    assert booked.amount == D("-3.00") and booked.ref.startswith("H")


def test_finland_camt053_reconciles_with_fx_and_comments(shared_dir: str) -> None:
    [s] = parse_camt(sample(shared_dir, "fffs-finland_camt053v02_sample_moov.xml"))
    assert len(s.entries) == 10
    assert (s.opening, s.closing, s.reconciles) == (D("10000.00"), D("23644.83"), True)
    fx = next(e for e in s.entries if e.ref == "091029ACCTSTMTARCH06")
    assert (fx.amount, fx.currency) == (D("2120.00"), "EUR")  # USD instructed amount ignored


def test_finland_one_line_camt052(shared_dir: str) -> None:
    data = sample(shared_dir, "fffs-finland_camt052v02_sample_moov.xml")
    assert data.count(b"\n") == 0
    prenotice, interim = parse_camt(data)
    assert prenotice.message_type == "camt.052" and prenotice.reconciles is None
    assert prenotice.entries[0].status == "PDNG"
    # two ITBD interim balances and no OPBD/CLBD: first opens, last closes
    assert (interim.opening, interim.closing, interim.reconciles) == (D("1000.00"), D("1100.00"), True)


def test_finland_camt054_reversal_info_and_foreign_instructed_amounts(shared_dir: str) -> None:
    [s] = parse_camt(sample(shared_dir, "fffs-finland_camt054v02_sample_moov.xml"))
    assert {e.currency for e in s.entries} == {"EUR"}
    [reversal] = [e for e in s.entries if e.reversal]
    assert reversal.status == "INFO"


def test_lithuania_non_ascii_and_stable_hash_refs(shared_dir: str) -> None:
    data = sample(shared_dir, "lithuania_camt053v02_statement1_moov.xml")
    [s] = parse_camt(data)
    assert any(e.counterparty == "Antstolis Vardenis Pavardenis" for e in s.entries)
    assert any("įskaitymą" in e.remittance for e in s.entries)
    assert s.reconciles is None  # only OPAV/CLAV (available) balances: not used
    assert [e.ref for e in parse_camt(data)[0].entries] == [e.ref for e in s.entries]


# --- quirks, one small file each -----------------------------------------------------------------------


def test_v10_namespace_entry_without_sts_is_booked() -> None:
    [s] = parse_camt(camt(stmt(ntry("10.00", sts=None, ref="R1"), bal("OPBD", "100") + bal("CLBD", "90"))))
    assert (s.message_type, s.entries[0].status, s.reconciles) == ("camt.053", "BOOK", True)


def test_no_namespace_and_old_namespace_read_the_same() -> None:
    body = stmt(ntry("1.00", ref="R1"))
    for ns in ("", "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"):
        assert parse_camt(camt(body, ns=ns))[0].entries[0].amount == D("-1.00")


def test_camt054_without_sts_is_not_booked() -> None:
    data = camt(stmt(ntry("5.00", sts=None, ref="R1"), tag="Ntfctn"), root="BkToCstmrDbtCdtNtfctn")
    assert parse_camt(data)[0].entries[0].status == ""


def test_datetime_with_a_time_zone_is_dated_in_china_time() -> None:
    cases = [
        ("A", "<DtTm>2026-03-31T23:30:00-05:00</DtTm>", date(2026, 4, 1)),  # 12:30 on 1 April in Beijing
        ("B", "<DtTm>2026-04-01T00:30:00+08:00</DtTm>", date(2026, 4, 1)),  # already China time
        ("C", "<DtTm>2026-03-31T16:00:00Z</DtTm>", date(2026, 4, 1)),  # midnight in Beijing: next month
        ("D", "<DtTm>2026-03-31T15:59:59.999Z</DtTm>", date(2026, 3, 31)),  # one moment before
        ("E", "<DtTm>2026-12-31T20:00:00+0000</DtTm>", date(2027, 1, 1)),  # offset without colon, across the year
        ("F", "<DtTm>2026-04-01T00:30:00+09:00</DtTm>", date(2026, 3, 31)),  # Tokyo's early hours: Beijing's day before
        ("G", "<DtTm>2026-03-31T23:30:00</DtTm>", date(2026, 3, 31)),  # no offset: as written
        ("H", "<DtTm>2026-03-31T23:30:00.5</DtTm>", date(2026, 3, 31)),
        ("I", "<Dt>2026-03-31</Dt>", date(2026, 3, 31)),  # a plain date: as written
    ]
    [s] = parse_camt(camt(stmt("".join(ntry("1", ref=ref, booked=booked) for ref, booked, _ in cases))))
    assert [e.booking_date for e in s.entries] == [day for *_, day in cases]
    value = ntry("1", ref="V", extra="<ValDt><DtTm>2026-04-30T17:00:00+01:00</DtTm></ValDt>")
    assert parse_camt(camt(stmt(value)))[0].entries[0].value_date == date(2026, 5, 1)


def test_every_xs_date_and_datetime_form_is_accepted() -> None:
    """ISO 20022 dates are xs:date / xs:dateTime: a date may carry a time zone, a time fractions and 24:00:00."""
    cases = [
        ("A", "<Dt>2017-04-01+02:00</Dt>", date(2017, 4, 1)),  # a date with a zone is that day
        ("B", "<Dt>2017-04-01-05:00</Dt>", date(2017, 4, 1)),
        ("C", "<Dt>2017-04-01Z</Dt>", date(2017, 4, 1)),
        ("D", "<DtTm>2017-03-31T24:00:00</DtTm>", date(2017, 4, 1)),  # end of day = next midnight
        ("E", "<DtTm>2017-03-31T15:59:59.123456789Z</DtTm>", date(2017, 3, 31)),  # more than 6 fraction digits
        ("F", "<DtTm>2017-03-31T16:00:00.0Z</DtTm>", date(2017, 4, 1)),
        ("G", "<DtTm>2017-03-31T10:00:00-14:00</DtTm>", date(2017, 4, 1)),  # 08:00 on 1 April in Beijing
    ]
    [s] = parse_camt(camt(stmt("".join(ntry("1", ref=ref, booked=booked) for ref, booked, _ in cases))))
    assert [e.booking_date for e in s.entries] == [day for *_, day in cases]


@pytest.mark.parametrize("booked", ["<DtTm>2026-03-31T25:00:00+01:00</DtTm>", "<DtTm>gestern 23:00 Uhr MEZ</DtTm>",
                                    "<Dt>2026-02-30</Dt>", "<Dt>2026-03-31+15:00</Dt>", "<Dt>20260331</Dt>",
                                    "<DtTm>2026-03-31T24:00:01</DtTm>"])
def test_invalid_datetime_is_refused(booked: str) -> None:
    with pytest.raises(BankFormatError, match="BookgDt"):
        parse_camt(camt(stmt(ntry("1", ref="A", booked=booked))))


def test_hash_ref_of_a_pending_entry_is_kept_when_it_books() -> None:
    """No AcctSvcrRef or NtryRef: the content hash leaves out Sts and BookgDt, so the booked entry has the
    pending one's ref (and is promoted, not stored twice); any other difference is another entry."""
    details = "<NtryDtls><TxDtls><RmtInf><Ustrd>P-1 办公用品</Ustrd></RmtInf></TxDtls></NtryDtls>"
    pending = ntry("12.00", sts="<Sts>PDNG</Sts>", booked="<Dt>2026-03-01</Dt>", extra=details)
    pending_052 = pending.replace("<BookgDt><Dt>2026-03-01</Dt></BookgDt>", "")  # no booking date yet
    booked = ntry("12.00", sts="<Sts><Cd>BOOK</Cd></Sts>", booked="<DtTm>2026-03-02T09:00:00+08:00</DtTm>",
                  extra=details)
    other = ntry("12.01", sts="<Sts>BOOK</Sts>", extra=details)
    refs = [parse_camt(camt(stmt(x)))[0].entries[0].ref for x in (pending, pending_052, booked, other)]
    assert refs[0].startswith("H") and refs[0] == refs[1] == refs[2] != refs[3]


def test_balance_without_indicator_is_credit_and_debit_balance_negative() -> None:
    [s] = parse_camt(camt(stmt(ntry("50.00", ref="R1"), bal("OPBD", "20.00", ind="DBIT") + bal("CLBD", "70.00", None))))
    assert (s.opening, s.closing) == (D("-20.00"), D("70.00"))
    assert s.reconciles is False  # -20 - 50 != 70


def test_currency_xxx() -> None:
    [s] = parse_camt(camt(stmt(ntry("3.5", ccy="XXX", ref="R1"), ccy="XXX")))
    assert to_json([s])["statements"][0]["entries"][0] == {
        "ref": "R1", "booking_date": "2026-03-01", "amount": "-3.50", "currency": "XXX", "status": "BOOK",
        "reversal": False, "counterparty": "", "remittance": "",
    }


def test_jpy_has_no_minor_units() -> None:
    [s] = parse_camt(camt(stmt(ntry("1500", ind="CRDT", ccy="JPY", ref="R1"), ccy="JPY")))
    assert to_json([s])["statements"][0]["entries"][0]["amount"] == "1500"


def test_several_statements_in_one_message() -> None:
    body = stmt(ntry("1.00", ref="A"), account="ACC1") + stmt(ntry("2.00", ref="B"), account="ACC2", ccy="EUR")
    first, second = parse_camt(camt(body))
    assert (first.account, second.account, second.currency) == ("ACC1", "ACC2", "EUR")
    assert second.entries[0].amount == D("-2.00")


def test_statement_that_does_not_reconcile() -> None:
    balances = bal("OPBD", "1000.00") + bal("CLBD", "900.00")
    [s] = parse_camt(camt(stmt(ntry("99.99", ref="R1") + ntry("5.00", ref="R2", sts="<Sts>PDNG</Sts>"), balances)))
    assert s.reconciles is False
    assert to_json([s])["statements"][0]["reconciles"] is False


def test_pending_entries_do_not_count_towards_the_closing_balance() -> None:
    balances = bal("OPBD", "1000.00") + bal("CLBD", "900.00")
    [s] = parse_camt(camt(stmt(ntry("100.00", ref="R1") + ntry("5.00", ref="R2", sts="<Sts>PDNG</Sts>"), balances)))
    assert s.reconciles is True


def test_xml_comments_everywhere() -> None:
    entry = (
        "<Ntry><!-- c --><AcctSvcrRef>R<!-- split -->1</AcctSvcrRef><Amt Ccy=\"CNY\">12<!-- c -->.50</Amt>"
        "<CdtDbtInd><!-- c -->DBIT</CdtDbtInd><Sts>BOOK<!-- c --></Sts><BookgDt><Dt>2026-03-01</Dt></BookgDt></Ntry>"
    )
    data = camt("<!-- top -->" + stmt(entry)).replace(b"<Document", b"<!-- before root --><Document")
    [e] = parse_camt(data)[0].entries
    assert (e.ref, e.amount, e.status) == ("R1", D("-12.50"), "BOOK")


def test_batch_books_the_entry_amount_and_single_detail_names_the_party() -> None:
    details = "".join(
        f"<TxDtls><Amt Ccy=\"CNY\">{a}</Amt><CdtDbtInd>DBIT</CdtDbtInd><RltdPties><Cdtr><Pty><Nm>{n}</Nm></Pty></Cdtr>"
        f"</RltdPties><RmtInf><Ustrd>{r}</Ustrd></RmtInf></TxDtls>"
        for a, n, r in (("60.00", "甲公司", "项目 P001 办公费"), ("40.00", "乙公司", "项目 P002 差旅费"))
    )
    one = ("<TxDtls><RltdPties><Dbtr><Nm>我单位</Nm></Dbtr><Cdtr><Nm>丙公司</Nm></Cdtr><CdtrAcct><Id><Othr><Id>62220"
           "</Id></Othr></Id></CdtrAcct></RltdPties><RmtInf><Strd><CdtrRefInf><Ref>RF18</Ref></CdtrRefInf></Strd>"
           "</RmtInf></TxDtls>")
    entries = (ntry("100.00", ref="B1", extra=f"<NtryDtls>{details}</NtryDtls><AddtlNtryInf>批量</AddtlNtryInf>")
               + ntry("7.00", ref="S1", extra=f"<NtryDtls>{one}</NtryDtls>"))
    batch, single = parse_camt(camt(stmt(entries)))[0].entries
    assert batch.amount == D("-100.00") and batch.counterparty == ""
    assert batch.remittance == "项目 P001 办公费; 项目 P002 差旅费"
    assert (single.counterparty, single.counterparty_account, single.remittance) == ("丙公司", "62220", "RF18")


def test_reversal_keeps_its_indicator() -> None:
    [e] = parse_camt(camt(stmt(ntry("30.00", ind="CRDT", ref="R1", extra="")
                                .replace("</CdtDbtInd>", "</CdtDbtInd><RvslInd>true</RvslInd>"))))[0].entries
    assert e.reversal and e.amount == D("30.00")


def test_interim_balances_rules() -> None:
    def report(balances: str):
        return parse_camt(camt(stmt(ntry("1", ref="A"), balances, tag="Rpt"), root="BkToCstmrAcctRpt"))[0]

    lone = report(bal("ITBD", "10"))
    assert (lone.message_type, lone.opening, lone.closing, lone.reconciles) == ("camt.052", None, None, None)
    after_opening = report(bal("OPBD", "10") + bal("ITBD", "9"))
    assert (after_opening.opening, after_opening.closing, after_opening.reconciles) == (D("10"), D("9"), True)
    several = report(bal("ITBD", "10") + bal("ITBD", "3") + bal("ITBD", "8"))
    assert (several.opening, several.closing, several.reconciles) == (D("10"), D("8"), False)


def test_identical_entries_without_refs_stay_distinct_and_hash_ignores_layout() -> None:
    fee = ntry("2.00")
    [s] = parse_camt(camt(stmt(fee + fee)))
    first, second = (e.ref for e in s.entries)
    assert second == f"{first}-2"
    pretty = camt(stmt(fee.replace("><", ">\n  <")), ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02")
    assert parse_camt(pretty)[0].entries[0].ref == first


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (stmt(ntry("12,50", ref="R")), "金额无效"),
        (stmt(ntry("-5", ref="R")), "金额无效"),
        (stmt(ntry("1" * 30, ref="R")), "金额无效"),
        (stmt(ntry("1.123456", ref="R")), "金额无效"),
        (stmt(ntry("5", ind="XX", ref="R")), "CdtDbtInd"),
        (stmt(ntry("5", ref="R", booked="<Dt>2026-02-30</Dt>")), "日期无效"),
        ("<Stmt><Id>x</Id></Stmt>", "缺少账号"),
    ],
)
def test_invalid_content_names_the_place(body: str, needle: str) -> None:
    with pytest.raises(BankFormatError, match=needle) as info:
        parse_camt(camt(body))
    assert str(info.value).startswith("不是有效的 camt XML：第 1 个 Stmt")


def test_not_a_camt_message() -> None:
    with pytest.raises(BankFormatError, match="未找到 BkToCstmrStmt"):
        parse_camt(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>')


# --- hostile and broken input ------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document><BkToCstmrStmt><Stmt><Acct><Id><Othr><Id>&lol9;</Id></Othr></Id></Acct></Stmt></BkToCstmrStmt></Document>
"""


def xxe(uri: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY xxe SYSTEM "{uri}">]>'
        "<Document><BkToCstmrStmt><Stmt><Acct><Id><Othr><Id>&xxe;</Id></Othr></Id></Acct>"
        "<Ntry><Amt>1</Amt><CdtDbtInd>CRDT</CdtDbtInd><AddtlNtryInf>&xxe;</AddtlNtryInf></Ntry>"
        "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_billion_laughs_refused() -> None:
    with pytest.raises(BankFormatError, match="禁止 DTD/实体声明"):
        parse_camt(BILLION_LAUGHS)
    utf16 = BILLION_LAUGHS.replace(b'"1.0"?>', b'"1.0" encoding="UTF-16"?>').decode().encode("utf-16")
    with pytest.raises(BankFormatError):
        parse_camt(utf16)


def test_external_entity_refused_and_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    for data in (
        xxe("file:///etc/passwd"),
        xxe(secret.as_uri()),
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]><d/>'.encode(),
        f'<?xml version="1.0"?><!DOCTYPE Document SYSTEM "{secret.as_uri()}"><Document/>'.encode(),
        # UTF-16 slips past the byte scan; the parsed document's DOCTYPE is refused instead
        xxe(secret.as_uri()).replace(b'"1.0"?>', b'"1.0" encoding="UTF-16"?>').decode().encode("utf-16"),
    ):
        with pytest.raises(BankFormatError) as info:
            parse_camt(data)
        message = str(info.value)
        assert "禁止 DTD" in message
        assert "TOP-SECRET" not in message and "root:" not in message


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"hello, not xml", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3", b'{"account": "x"}', b"<a><b></a>"],
)
def test_non_xml_refused_with_chinese_message(data: bytes) -> None:
    with pytest.raises(BankFormatError, match="不是有效的 camt XML"):
        parse_camt(data)


def test_truncated_sample_refused(shared_dir: str) -> None:
    data = sample(shared_dir, "postfinance_camt053v04_testfile-2016_dvbern.xml")
    with pytest.raises(BankFormatError, match="XML 语法错误"):
        parse_camt(data[: len(data) // 2])


def test_oversized_input_refused_before_parsing() -> None:
    with pytest.raises(BankFormatError, match="文件过大"):
        parse_camt(camt(stmt(ntry("1", ref="R"))), max_bytes=100)
    with pytest.raises(BankFormatError, match="文件过大"):
        parse_camt(b" " * (50 * 1024 * 1024 + 1))
