"""One TLS context per process for every httpx client we create: building one loads the CA bundle (≈ 20 ms of
CPU, ≈ 190 ms on a loaded machine) and a client per call or per poll paid it each time (issue 12)."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls() -> ssl.SSLContext:
    """httpx's default verification (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once."""
    return httpx.create_ssl_context()


def client(**kwargs) -> httpx.Client:
    return httpx.Client(verify=tls(), **kwargs)
