"""Login refusals as short codes for the login page's address (/login?error=...) and back to the same text.

The HTTP login (hbbudget/web.py) answers a refused form with a redirect to the login page; the page shows the
message rebuilt from the code. Only these shapes are shown, so a crafted link cannot put any other text on the
login page.
"""

from __future__ import annotations

import re

from hbbudget.services.security.auth import BAD_CREDENTIALS

EMPTY = "请输入用户名和密码"
FALLBACK = "登录失败，请重试"
_SHAPES = (  # code pattern, message pattern (the texts auth.login raises)
    (r"bad", re.escape(BAD_CREDENTIALS), lambda: BAD_CREDENTIALS),
    (r"left-(\d{1,2})", re.escape(BAD_CREDENTIALS) + r"，还可尝试 (\d{1,2}) 次",
     lambda n: f"{BAD_CREDENTIALS}，还可尝试 {n} 次"),
    (r"lock-(\d{1,2})-(\d{1,4})", r"连续 (\d{1,2}) 次密码错误，账号已锁定 (\d{1,4}) 分钟",
     lambda n, m: f"连续 {n} 次密码错误，账号已锁定 {m} 分钟"),
    (r"until-(\d{4}-\d\d-\d\d)-(\d\d:\d\d)", r"账号已锁定，请于 (\d{4}-\d\d-\d\d) (\d\d:\d\d) 后再试",
     lambda d, t: f"账号已锁定，请于 {d} {t} 后再试"),
    (r"off", r"账号已停用，请联系系统管理员", lambda: "账号已停用，请联系系统管理员"),
    (r"empty", re.escape(EMPTY), lambda: EMPTY),
)
_CODES = ("bad", "left-{}", "lock-{}-{}", "until-{}-{}", "off", "empty")


def code_of(message: str) -> str:
    """The code for a refusal text ("" when it has none: shown as the general failure)."""
    for (_, pattern, _), code in zip(_SHAPES, _CODES, strict=True):
        if m := re.fullmatch(pattern, message or ""):
            return code.format(*m.groups())
    return ""


def message_of(code: str) -> str:
    """The text for a code from the address; an unknown code gives the general failure, "" none."""
    code = str(code or "")[:40]
    if not code:
        return ""
    for pattern, _, build in _SHAPES:
        if m := re.fullmatch(pattern, code):
            return build(*m.groups())
    return FALLBACK
