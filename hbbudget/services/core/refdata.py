"""Reference data shipped in hbbudget/refdata: regions, subject skeletons, the economic mapping.

`load_all` only adds what is missing, so it is safe to run on every start; rows already present (possibly
renamed by an official import) are left alone.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import Session, select

from hbbudget.models import EconomicMapping, EconomicSubject, FunctionSubject, Region

REFDATA_DIR = Path(__file__).resolve().parents[2] / "refdata"

PROVINCE = "130000"
PROVINCE_MANAGED = {"130181", "130682"}  # 辛集, 定州: directly under the province in the finance tree

# CSV confidence -> subject/mapping source (unverified_name: the code is seen, the name is not)
_CONFIDENCE = {"verified": "verified", "inferred": "inferred", "unverified_name": "inferred"}


def _rows(name: str) -> list[dict[str, str]]:
    with open(REFDATA_DIR / name, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _source(confidence: str) -> str:
    # "inferred (S2 excerpt cut ...)" counts as inferred
    word = confidence.split()[0] if confidence else ""
    return _CONFIDENCE.get(word, "inferred")


def _level(code: str, kind: str) -> int:
    lengths = (3, 5, 7) if kind == "function" else (3, 5)
    return lengths.index(len(code)) + 1


def _parent(code: str) -> str | None:
    return code[:-2] if len(code) > 3 else None


# ---- what the files say (pure functions; the files are tiny) ----

def region_rows() -> list[Region]:
    out = []
    for r in _rows("hebei_admin_divisions_nbs2023.csv"):
        parent = r["parent_code"] or None
        out.append(Region(
            code=r["code"], name=r["name"], level=r["level"], parent_code=parent,
            finance_parent_code=PROVINCE if r["code"] in PROVINCE_MANAGED else parent,
            statistical_only=r["code"][4] == "7",  # NBS x7x dev-zone codes
        ))
    return out


def function_subjects() -> dict[str, tuple[str, str]]:
    """code -> (name, source)."""
    return {r["code"]: (r["name"], r["source"]) for r in _rows("function_skeleton.csv")}


def economic_subjects() -> dict[str, dict[str, tuple[str, str]]]:
    """kind ('dept'/'gov') -> code -> (name, source)."""
    out: dict[str, dict[str, tuple[str, str]]] = {"dept": {}, "gov": {}}
    for r in _rows("dept_budget_econ_class_partial.csv"):
        out["dept"][r["code"]] = (r["name"], _source(r["confidence"]))
    for r in _rows("econ_skeleton.csv"):
        out[r["kind"]].setdefault(r["code"], (r["name"], r["source"]))
    for r in _rows("gov_vs_dept_econ_mapping_partial.csv"):
        code, src = r["gov_econ_code"], _source(r["confidence"])
        old = out["gov"].get(code)
        if old is None or (src == "verified" and old[1] != "verified"):
            out["gov"][code] = (r["gov_econ_name"], src)
    return out


def mappings() -> dict[tuple[str, str], str]:
    """(dept_code, gov_code) -> source."""
    out: dict[tuple[str, str], str] = {}
    for r in _rows("gov_vs_dept_econ_mapping_partial.csv"):
        for dept in filter(None, (c.strip() for c in r["dept_econ_codes"].split(";"))):
            out.setdefault((dept, r["gov_econ_code"]), _source(r["confidence"]))
    return out


# ---- loading ----

def _load_regions(session: Session) -> int:
    have = set(session.exec(select(Region.code)).all())
    new = [r for r in region_rows() if r.code not in have]
    session.add_all(new)
    return len(new)


def _load_function(session: Session, year: int, data: dict[str, tuple[str, str]]) -> int:
    have = set(session.exec(select(FunctionSubject.code).where(FunctionSubject.fiscal_year == year)).all())
    new = [FunctionSubject(fiscal_year=year, code=c, name=n, level=_level(c, "function"),
                           parent_code=_parent(c), source=s)
           for c, (n, s) in sorted(data.items()) if c not in have]
    session.add_all(new)
    return len(new)


def _load_economic(session: Session, year: int, kind: str, data: dict[str, tuple[str, str]]) -> int:
    have = set(session.exec(select(EconomicSubject.code).where(
        EconomicSubject.fiscal_year == year, EconomicSubject.kind == kind)).all())
    new = [EconomicSubject(fiscal_year=year, kind=kind, code=c, name=n, level=_level(c, kind),
                           parent_code=_parent(c), source=s)
           for c, (n, s) in sorted(data.items()) if c not in have]
    session.add_all(new)
    return len(new)


def _load_mappings(session: Session, year: int, data: dict[tuple[str, str], str]) -> int:
    have = set(session.exec(select(EconomicMapping.dept_code, EconomicMapping.gov_code)
                            .where(EconomicMapping.fiscal_year == year)).all())
    new = [EconomicMapping(fiscal_year=year, dept_code=d, gov_code=g, source=s)
           for (d, g), s in sorted(data.items()) if (d, g) not in have]
    session.add_all(new)
    return len(new)


def load_all(session: Session, years: list[int]) -> dict[str, int]:
    """Add the missing reference rows (regions once, subjects per year); returns rows added per kind."""
    counts = {"region": _load_regions(session), "function": 0, "dept": 0, "gov": 0, "mapping": 0}
    funcs, econ, maps = function_subjects(), economic_subjects(), mappings()
    for year in sorted(set(years)):
        counts["function"] += _load_function(session, year, funcs)
        counts["dept"] += _load_economic(session, year, "dept", econ["dept"])
        counts["gov"] += _load_economic(session, year, "gov", econ["gov"])
        counts["mapping"] += _load_mappings(session, year, maps)
    session.flush()
    return counts
