"""Who may act through the dashboard: the token, the origin, and one use per confirmation.

Pure apart from the random nonces: `Guard.judge` returns why a request is refused, or None.
A refused request changes nothing. The rules:

- no token configured: the page is read-only, every action is refused;
- the request must carry the token (a form field or ``Authorization: Bearer``), compared in
  constant time;
- a browser's ``Origin`` (or, without one, ``Referer``) must be the page's own; a request
  the browser marks ``Sec-Fetch-Site: cross-site`` is refused too;
- each confirmation page hands out a nonce that one request may use, once: a replayed request
  is refused (only the latest `MAX_NONCES` are kept, so asking for pages costs no memory);
- on a loopback address, a request whose ``Host`` is not a loopback name is refused, reads
  too (`host_allowed`): a page elsewhere cannot read it through a rebound DNS name;
- served beyond loopback, reading needs the token too: given once on a sign-in form, it is
  kept in an HttpOnly, SameSite=Strict cookie (`Guard.admits`).

Binding to anything but a loopback address needs ``allow_remote`` and a token
(`check_bind`).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import attrs

from .._errors import HydraError

MAX_NONCES = 64
COOKIE = "hydra_dashboard"
TOKEN_ENV = "HYDRA_DASHBOARD_TOKEN"
"""The environment variable a command reads the token from (else it makes one and prints it)."""


class RemoteBindRefusedError(HydraError, PermissionError):
    """The dashboard was asked to listen beyond this machine without the guard that needs."""


def new_token() -> str:
    """A random token for the dashboard's actions (print it once; it is never stored)."""
    return secrets.token_urlsafe(24)


def token_from(environ: Mapping[str, str]) -> str:
    """The token in ``environ`` (`TOKEN_ENV`), or a new random one."""
    return environ.get(TOKEN_ENV) or new_token()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(host_header: str, *, remote: bool) -> bool:
    """Whether a request with this ``Host`` header is served (any, when bound for remote use)."""
    name = urlsplit(f"//{host_header}").hostname or ""
    return remote or is_loopback(name)


def check_bind(host: str, *, token: str | None, allow_remote: bool) -> None:
    """Refuse a non-loopback ``host`` unless remote access is explicitly allowed with a token."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise RemoteBindRefusedError(
            f"dashboard host {host!r} is not a loopback address: allow remote access "
            "explicitly (allow_remote, --dashboard-allow-remote) and give a token")
    if not token:
        raise RemoteBindRefusedError(
            f"dashboard host {host!r} is reachable from other machines: it needs a token")


@attrs.frozen(kw_only=True)
class Request:
    """What the guard looks at in one action request."""

    headers: Mapping[str, str]  # lower-case names
    form: Mapping[str, str]
    host: str  # the Host header the request came to


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return parts.netloc or None


@attrs.define
class Guard:
    """The token and the nonces handed out and not yet used."""

    token: str | None
    remote: bool = False  # served beyond loopback (allow_remote): any Host header is served
    _nonces: dict[str, None] = attrs.Factory(dict)  # oldest first

    @property
    def read_only(self) -> bool:
        return not self.token

    def nonce(self) -> str:
        """A nonce for one confirmation page: one request may use it, once."""
        nonce = secrets.token_urlsafe(16)
        self._nonces[nonce] = None
        if len(self._nonces) > MAX_NONCES:
            del self._nonces[next(iter(self._nonces))]
        return nonce

    def admits(self, headers: Mapping[str, str]) -> bool:
        """Whether a request may read the page: always on loopback; beyond it, only with the
        token's cookie."""
        if not self.remote:
            return True
        cookies = SimpleCookie(headers.get("cookie", ""))
        given = cookies[COOKIE].value if COOKIE in cookies else ""
        return bool(self.token) and _same(given, self.token or "")

    def sign_in(self, request: Request) -> str | None:
        """Why a sign-in (the token posted once, for the cookie) is refused, or None."""
        if not self.token:
            return "the dashboard has no token"
        return _foreign(request) or _without_token(request, self.token)

    def cookie(self) -> str:
        """The Set-Cookie value that `admits` accepts."""
        return f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"

    def judge(self, request: Request) -> str | None:
        """Why ``request`` is refused, or None when it may act (its nonce is then used up)."""
        if not self.token:
            return "the dashboard is read-only (started without a token)"
        refusal = _foreign(request) or _without_token(request, self.token)
        if refusal is not None:
            return refusal
        nonce = request.form.get("nonce", "")
        if nonce not in self._nonces:
            return "this confirmation was already used or never given (replayed request)"
        del self._nonces[nonce]
        return None


def _foreign(request: Request) -> str | None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return "request from another site"
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is not None and _origin_of(source) != request.host:
        return f"request from another origin ({source!r})"
    return None


def _without_token(request: Request, token: str) -> str | None:
    given = request.form.get("token", "")
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        given = given or bearer[len("bearer "):]
    if not _same(given, token):
        return "wrong or missing token"
    return None


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())
