"""智能模板: category templates (economic subjects with default shares)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class CategoryTemplate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="org.id", index=True)  # visible in this org's subtree
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=500)
    active: bool = True


class CategoryTemplateItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="categorytemplate.id", index=True)
    econ_code: str = Field(max_length=5)
    share_bp: int  # share in basis points (1/100 of a percent); a template's items sum to 10000
