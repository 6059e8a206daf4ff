"""assets/ (issue 11 §27): Reflex copies the top-level assets/ folder to the served root at build time; the app's
logo, favicon and print stylesheet live there, and every asset the app names exists."""

import struct
from pathlib import Path

from lxml import etree

import hbbudget.hbbudget as app_module
from components import text

ASSETS = Path(__file__).resolve().parents[3] / "assets"


def test_the_assets_the_app_names_exist():
    assert (ASSETS / text.LOGO.lstrip("/")).is_file()
    assert app_module.app.stylesheets == [text.PRINT_CSS] and (ASSETS / text.PRINT_CSS.lstrip("/")).is_file()
    assert (ASSETS / "favicon.ico").is_file()  # what Reflex's pages link by default


def test_the_favicon_is_an_icon_and_the_logo_a_plain_svg():
    data = (ASSETS / "favicon.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, 1)
    width, height, *_, size, offset = struct.unpack("<BBBBHHII", data[6:22])
    assert (width, height) == (32, 32) and data[offset:offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + size == len(data)
    svg = etree.fromstring((ASSETS / "logo.svg").read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [e for e in svg.iter() if etree.QName(e).localname in ("script", "foreignObject")]


def test_printing_keeps_the_content_only():
    css = (ASSETS / "print.css").read_text(encoding="utf-8")
    assert "@media print" in css
    for hidden in ("#shell-header", "#menu"):
        assert hidden in css
