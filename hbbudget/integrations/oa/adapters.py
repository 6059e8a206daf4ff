"""The two OA styles over HTTP, and the callback signature (HMAC-SHA256 over timestamp, nonce and body)."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

OUTCOMES = ("running", "agree", "refuse", "terminated", "revoked")


class OaError(Exception):
    """The OA system did not answer usefully (network, HTTP status, malformed body); the message is Chinese."""


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    msg = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, nonce: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, nonce, body), signature or "")


def _json(resp: httpx.Response) -> dict:
    if resp.status_code != 200:
        raise OaError(f"OA 返回 HTTP {resp.status_code}")
    try:
        data = resp.json()
    except ValueError:
        raise OaError("OA 返回的内容不是 JSON") from None
    if not isinstance(data, dict):
        raise OaError("OA 返回的内容格式不对")
    return data


def _call(client: httpx.Client, method: str, url: str, **kw) -> dict:
    try:
        return _json(client.request(method, url, **kw))  # the caller's client sets the timeout
    except httpx.TimeoutException:
        raise OaError("OA 请求超时") from None
    except httpx.HTTPError as err:
        raise OaError(f"OA 连接失败：{type(err).__name__}") from None


class Adapter:
    style = ""

    def create(self, client: httpx.Client, base_url: str, matter: dict) -> str:
        raise NotImplementedError

    def fetch(self, client: httpx.Client, base_url: str, external_id: str) -> str:
        raise NotImplementedError

    def parse_callback(self, body: bytes) -> tuple[str, str]:
        raise NotImplementedError


def _text(value: object, n: int = 64) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise OaError("OA 数据缺少实例编号")
    return str(value)[:n]


class DingTalk(Adapter):
    """Instances RUNNING / COMPLETED (result agree / refuse) / TERMINATED."""

    style = "dingtalk"

    @staticmethod
    def outcome(status: object, result: object) -> str:
        if status == "RUNNING":
            return "running"
        if status == "TERMINATED":
            return "terminated"
        if status == "COMPLETED" and result in ("agree", "refuse"):
            return str(result)
        raise OaError(f"未知的 OA 实例状态：{str(status)[:20]}/{str(result)[:20]}")

    def create(self, client, base_url, matter):
        data = _call(client, "POST", f"{base_url}/dingtalk/processinstance", json={
            "process_code": matter["kind"], "title": matter["title"], "amount": matter["amount"],
            "originator": matter["originator"]})
        return _text(data.get("process_instance_id"))

    def fetch(self, client, base_url, external_id):
        data = _call(client, "GET", f"{base_url}/dingtalk/processinstance/{external_id}")
        inst = data.get("process_instance")
        if not isinstance(inst, dict):
            raise OaError("OA 返回的实例格式不对")
        return self.outcome(inst.get("status"), inst.get("result"))

    def parse_callback(self, body):
        data = _loads(body)
        return _text(data.get("processInstanceId")), self.outcome(data.get("status"), data.get("result"))


class WeCom(Adapter):
    """sp_status codes: 1 审批中, 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付."""

    style = "wecom"
    CODES = {1: "running", 2: "agree", 3: "refuse", 4: "terminated", 6: "revoked", 7: "terminated", 10: "agree"}

    def outcome(self, code: object) -> str:
        if not isinstance(code, int) or code not in self.CODES:
            raise OaError(f"未知的审批状态码：{str(code)[:10]}")
        return self.CODES[code]

    def create(self, client, base_url, matter):
        data = _call(client, "POST", f"{base_url}/wecom/applyevent", json={
            "template_id": matter["kind"], "apply_data": {"title": matter["title"], "amount": matter["amount"]},
            "creator_userid": matter["originator"]})
        if data.get("errcode") != 0:
            raise OaError(f"OA 拒绝创建审批：{str(data.get('errmsg', ''))[:100]}")
        return _text(data.get("sp_no"))

    def fetch(self, client, base_url, external_id):
        data = _call(client, "POST", f"{base_url}/wecom/getapprovaldetail", json={"sp_no": external_id})
        if data.get("errcode") != 0 or not isinstance(data.get("info"), dict):
            raise OaError(f"OA 查询失败：{str(data.get('errmsg', ''))[:100]}")
        return self.outcome(data["info"].get("sp_status"))

    def parse_callback(self, body):
        data = _loads(body)
        return _text(data.get("SpNo")), self.outcome(data.get("SpStatus"))


def _loads(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise OaError("回调内容不是 JSON") from None
    if not isinstance(data, dict):
        raise OaError("回调内容格式不对")
    return data


ADAPTERS: dict[str, Adapter] = {"dingtalk": DingTalk(), "wecom": WeCom()}
