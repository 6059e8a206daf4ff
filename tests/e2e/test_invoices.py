"""电子发票 in a real browser: the 会计 attaches the real sample OFD invoice to a demo payment; it is listed with its
number and total; attaching the same invoice again (as its XML) is refused and names where it is already used."""

from __future__ import annotations

import os
import zipfile

import pytest
from playwright.sync_api import expect

from hbbudget.services.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def test_accountant_attaches_an_invoice_once(browser, app_url, shared_dir, tmp_path):
    context = browser.new_context(locale="zh-CN", base_url=app_url, viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, "kuaiji", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_be_visible()
    page.goto("/invoices")
    sample = os.path.join(shared_dir, "samples", "invoice", "einvoice2020_test-env.ofd")
    page.locator("#invoice-target").click()
    page.get_by_role("option").filter(has_text="河北省机关印刷厂").first.click()
    expect(page.locator("#invoice-target")).to_contain_text("河北省机关印刷厂")
    page.locator("#invoice-upload input[type=file]").set_input_files(sample)
    page.locator("#invoice-upload-btn").click()
    listed = page.locator("#invoice-list tbody tr").filter(has_text="050001700111-99999951")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("¥318.00")
    expect(listed).to_contain_text("未查验")

    xml = tmp_path / "original_invoice.xml"  # the same invoice as XML, taken out of the OFD
    with zipfile.ZipFile(sample) as z:
        xml.write_bytes(z.read("Doc_0/Attachs/original_invoice.xml"))
    page.locator("#invoice-upload input[type=file]").set_input_files(str(xml))
    page.locator("#invoice-upload-btn").click()
    expect(page.get_by_text("已报销过", exact=False)).to_be_visible()
    expect(page.get_by_text("已关联到河北示范大学", exact=False)).to_be_visible()
    expect(listed).to_have_count(1)
    context.close()
