"""The 操作手册 (docs/manual.md, issue 17) and its screenshots stay in step: every image it shows exists in
docs/manual/, every image there is shown, and each is a step of the browser walk that makes them
(tests/e2e/test_manual.py, read with ast: no browser imports here)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MANUAL = ROOT / "docs" / "manual.md"
IMAGES = ROOT / "docs" / "manual"
WALK = ROOT / "tests" / "e2e" / "test_manual.py"
IMAGE_REF = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def walk_steps() -> list[str]:
    """The image names of STEPS in test_manual.py (a literal tuple of (name, role, what it shows))."""
    tree = ast.parse(WALK.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "STEPS" for t in node.targets):
            return [step[0] for step in ast.literal_eval(node.value)]
    raise AssertionError("test_manual.py has no STEPS")


def referenced() -> list[str]:
    return IMAGE_REF.findall(MANUAL.read_text(encoding="utf-8"))


def test_every_image_of_the_manual_is_a_shot_of_the_walk():
    refs = referenced()
    assert refs, "docs/manual.md shows no screenshot"
    steps = walk_steps()
    for ref in refs:
        assert ref.startswith("manual/") and ref.endswith(".jpg"), f"{ref}: not an image of docs/manual/"
        name = ref.removeprefix("manual/").removesuffix(".jpg")
        assert name in steps, f"{ref}: not a step of tests/e2e/test_manual.py"
        assert (IMAGES / f"{name}.jpg").is_file(), f"{ref}: missing (run make manual)"


def test_every_shot_is_in_the_manual_and_committed():
    shown = {ref.removeprefix("manual/") for ref in referenced()}
    files = {p.name for p in IMAGES.iterdir()}
    assert files - shown == set(), "images in docs/manual/ that docs/manual.md does not show"
    assert {f"{name}.jpg" for name in walk_steps()} == files, "steps of test_manual.py without an image"


def test_the_images_stay_small():
    for image in IMAGES.glob("*.jpg"):
        assert image.read_bytes()[:3] == b"\xff\xd8\xff", f"{image.name}: not a JPEG"
        assert image.stat().st_size < 250_000, f"{image.name}: {image.stat().st_size} bytes"
