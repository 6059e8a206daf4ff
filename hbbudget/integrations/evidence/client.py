"""The evidence (存证) service: anchor a hash, get a signed receipt; check a receipt's signature offline.

    GET  {base}/public-key                          → {"key": base64 Ed25519 public key}
    POST {base}/anchor {"kind", "ref", "sha256"}    → {"receipt_id", "anchored_at", "signature", "key"}

The service signs the receipt text `receipt_text(...)` with its Ed25519 key. Failures raise EvidenceError.
"""

from __future__ import annotations

import base64
import binascii

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hbbudget.integrations.http import client as http_client


class EvidenceError(Exception):
    """Talking to the evidence service failed (Chinese message)."""


def receipt_text(receipt_id: str, anchored_at: str, kind: str, ref: str, sha256: str) -> bytes:
    return f"hbbudget-evidence|{receipt_id}|{anchored_at}|{kind}|{ref}|{sha256}".encode()


def signature_ok(public_key: str, signature: str, text: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), text)
        return True
    except (InvalidSignature, ValueError, binascii.Error):
        return False


def anchor(base_url: str, kind: str, ref: str, sha256: str, timeout: float = 10.0) -> dict:
    try:
        with http_client(timeout=timeout) as http:
            response = http.post(f"{base_url}/anchor", json={"kind": kind, "ref": ref, "sha256": sha256})
    except httpx.TimeoutException:
        raise EvidenceError("存证平台响应超时") from None
    except httpx.HTTPError as exc:
        raise EvidenceError(f"无法连接存证平台（{type(exc).__name__}）") from None
    if not 200 <= response.status_code < 300:
        raise EvidenceError(f"存证平台返回错误 HTTP {response.status_code}")
    try:
        data = response.json()
        receipt = {k: str(data[k]) for k in ("receipt_id", "anchored_at", "signature", "key")}
    except (ValueError, KeyError, TypeError):
        raise EvidenceError("存证平台返回内容无法解析") from None
    text = receipt_text(receipt["receipt_id"], receipt["anchored_at"], kind, ref, sha256)
    if not signature_ok(receipt["key"], receipt["signature"], text):
        raise EvidenceError("存证平台返回的回执签名无效")
    return receipt
