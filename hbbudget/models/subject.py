"""政府收支分类科目: function (类/款/项) and economic (类/款) classifications, per fiscal year."""

from __future__ import annotations

from sqlmodel import Field, SQLModel, UniqueConstraint

# Where a row came from, shown beside it so nobody mistakes an inferred row for an official one.
SOURCES = ("verified", "inferred", "skeleton", "imported", "demo")


class FunctionSubject(SQLModel, table=True):
    """支出功能分类: 类 3 digits, 款 5, 项 7."""

    __table_args__ = (UniqueConstraint("fiscal_year", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    code: str = Field(max_length=7, index=True)
    name: str = Field(max_length=128)
    level: int  # 1 类, 2 款, 3 项
    parent_code: str | None = Field(default=None, max_length=7)
    active: bool = True
    source: str = Field(default="imported", max_length=16)


class EconomicSubject(SQLModel, table=True):
    """支出经济分类: kind 'dept' (部门预算 301/30101) or 'gov' (政府预算 501/50101)."""

    __table_args__ = (UniqueConstraint("fiscal_year", "kind", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    kind: str = Field(default="dept", max_length=8)
    code: str = Field(max_length=5, index=True)
    name: str = Field(max_length=128)
    level: int  # 1 类, 2 款
    parent_code: str | None = Field(default=None, max_length=5)
    active: bool = True
    source: str = Field(default="imported", max_length=16)


class EconomicMapping(SQLModel, table=True):
    """部门预算经济分类款 → 政府预算经济分类款 (for 机关; 事业单位 map to 505)."""

    __table_args__ = (UniqueConstraint("fiscal_year", "dept_code", "gov_code"),)

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    dept_code: str = Field(max_length=5)
    gov_code: str = Field(max_length=5)
    source: str = Field(default="verified", max_length=16)
