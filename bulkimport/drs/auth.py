"""Credentials for the DRS API: an IAM token, IAM password login, or AK/SK request signing.

Every class here holds a secret, so none of them ever shows it: their reprs mask it, and
the errors they raise name variables and HTTP statuses, never values. The client calls
`apply` on each prepared request (a signature covers the date and body, so it is made per
attempt) and `refresh` once after a 401.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests

from bulkimport.errors import BulkImportError, InputError
from bulkimport.outcomes import ExitCode

#: Environment variables, in the order they are consulted (docs/decisions.md "Authentication and endpoints").
TOKEN_VAR = "OS_AUTH_TOKEN"
PASSWORD_VARS = ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD")
DOMAIN_VARS = ("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")
PROJECT_ID_VAR = "OS_PROJECT_ID"
PROJECT_NAME_VAR = "OS_PROJECT_NAME"
AK_VAR = "HUAWEICLOUD_SDK_AK"
SK_VAR = "HUAWEICLOUD_SDK_SK"
SECURITY_TOKEN_VAR = "HUAWEICLOUD_SDK_SECURITY_TOKEN"

log = logging.getLogger(__name__)

_PROJECT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Refresh an IAM token this long before the expiry IAM announced, so a request is never
#: sent with a token that dies in flight.
_EXPIRY_MARGIN_SECONDS = 300.0


class AuthError(InputError):
    """IAM refused the credentials: nothing can be sent with them (exit 2). The message names
    the IAM URL and HTTP status, never the user's secrets."""


class AuthUnavailable(BulkImportError):
    """IAM could not be reached or failed (network error, 5xx): the credentials may be fine,
    so the caller treats the request it was preparing as not sent (exit 3 if it ends a run)."""

    exit_code = ExitCode.INCOMPLETE


@runtime_checkable
class Auth(Protocol):
    """What the client needs from any credential mode."""

    def apply(self, request: requests.PreparedRequest) -> None:
        """Add the credential headers to a request that is about to be sent."""

    def refresh(self) -> bool:
        """After a 401: get fresh credentials once; False when this mode cannot."""


class TokenAuth:
    """A ready IAM token (OS_AUTH_TOKEN). It cannot be renewed: a 401 is final."""

    def __init__(self, token: str) -> None:
        if not token or not token.strip():
            raise InputError("{name} is empty", name=TOKEN_VAR)
        self._token = token.strip()

    def apply(self, request: requests.PreparedRequest) -> None:
        request.headers["X-Auth-Token"] = self._token

    def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "TokenAuth(token=******)"


def token_url(auth_url: str) -> str:
    """`{auth_url}/v3/auth/tokens?nocatalog=true`, accepting an auth URL that already ends in
    `/v3` (the OpenStack convention for OS_AUTH_URL) as well as a bare host."""
    base = auth_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("{name} must be an http:// or https:// URL", name=PASSWORD_VARS[0])
    if not base.endswith("/v3"):
        base += "/v3"
    return f"{base}/auth/tokens?nocatalog=true"


class PasswordAuth:
    """IAM password login (project-scoped token), fetched on first use and again after a 401
    or shortly before the expiry IAM announced.

    Safe to share between threads: one lock guards the fetch, and a thread that saw a 401
    with a token another thread has already replaced reuses the new one instead of logging
    in again, so a burst of 401s costs one IAM call.
    """

    def __init__(self, auth_url: str, username: str, password: str, domain: str, project_id: str | None = None,
                 project_name: str | None = None, session: requests.Session | None = None,
                 verify: bool | str = True, timeout: tuple[float, float] = (10, 60),
                 clock: Callable[[], float] = time.time) -> None:
        if not project_id and not project_name:
            raise InputError("IAM password login needs a project: set --project-id, {id_var} or {name_var}",
                             id_var=PROJECT_ID_VAR, name_var=PROJECT_NAME_VAR)
        self.url = token_url(auth_url)
        self.username = username
        self._password = password
        self.domain = domain
        self.project_id = project_id
        self.project_name = project_name
        self._session = session or requests.Session()
        self._verify = verify
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at: float | None = None  # epoch seconds, when IAM said
        self._seen = threading.local()  # the token this thread last applied
        self.fetch_count = 0  # how many logins were made (observable for tests and reports)

    def _body(self) -> dict[str, object]:
        scope = {"id": self.project_id} if self.project_id else {"name": self.project_name}
        return {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.username, "password": self._password, "domain": {"name": self.domain}}}},
            "scope": {"project": scope},
        }}

    def _fetch(self) -> str:
        """Log in; caller holds the lock."""
        try:
            reply = self._session.post(self.url, data=json.dumps(self._body()).encode("utf-8"),
                                       headers={"Content-Type": "application/json;charset=utf8"},
                                       timeout=self._timeout, verify=self._verify)
        except (requests.RequestException, OSError) as exc:
            raise AuthUnavailable("IAM at {url} could not be reached ({reason})", url=self.url,
                                  reason=type(exc).__name__) from None
        self.fetch_count += 1
        if reply.status_code >= 500 or reply.status_code == 429:
            raise AuthUnavailable("IAM at {url} answered HTTP {status}", url=self.url, status=reply.status_code)
        token = reply.headers.get("X-Subject-Token")
        if reply.status_code >= 400 or not token:
            detail = f"HTTP {reply.status_code}" if reply.status_code >= 400 else "no X-Subject-Token in the reply"
            raise AuthError("IAM at {url} refused the password login of user {user} in domain {domain} ({detail})",
                            url=self.url, user=repr(self.username), domain=repr(self.domain), detail=detail)
        self._token = token
        self._expires_at = _expiry(reply)
        return token

    def _current(self) -> str:
        with self._lock:
            if self._token is None:
                return self._fetch()
            if self._expires_at is not None and self._clock() > self._expires_at - _EXPIRY_MARGIN_SECONDS:
                try:
                    return self._fetch()
                except (AuthError, AuthUnavailable):
                    # Keep the old token: it may still work, and if it does not the server's
                    # 401 ends the request cleanly instead of an exception in mid-campaign.
                    log.warning("IAM token renewal failed; using the current token until it is refused")
            return self._token

    def login(self) -> None:
        """Log in now unless already logged in: lets a command fail on bad credentials
        (AuthError, exit 2) before it plans or sends anything, instead of at the first request."""
        self._current()

    def apply(self, request: requests.PreparedRequest) -> None:
        token = self._current()
        self._seen.token = token
        request.headers["X-Auth-Token"] = token

    def last_applied(self) -> str | None:
        """The token this thread put on its last request (for the client's 401 loop only)."""
        return getattr(self._seen, "token", None)

    def refresh(self) -> bool:
        """Log in anew, unless another thread already did since this thread's last request.
        False when IAM cannot give a token now (a 401 then stands)."""
        with self._lock:
            seen = getattr(self._seen, "token", None)
            if self._token is not None and seen is not None and self._token != seen:
                return True
            try:
                self._fetch()
            except (AuthError, AuthUnavailable):
                return False
            return True

    def __repr__(self) -> str:
        project = f"project_id={self.project_id!r}" if self.project_id else f"project_name={self.project_name!r}"
        return (f"PasswordAuth(url={self.url!r}, username={self.username!r}, domain={self.domain!r}, {project}, "
                "password=******)")


def _expiry(reply: requests.Response) -> float | None:
    """`token.expires_at` from the IAM body as epoch seconds; None when absent or unreadable
    (the token is then used until a 401 says otherwise)."""
    try:
        text = reply.json()["token"]["expires_at"]
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except Exception:
        return None


# -- AK/SK signing --------------------------------------------------------------------------

SIGNING_ALGORITHM = "SDK-HMAC-SHA256"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
#: Headers covered by the signature when present: what the official SDK signs for DRS calls.
#: Transport headers (Connection, Accept-Encoding, Content-Length) are left out on purpose:
#: a proxy may rewrite them, and the server only needs the date signed.
SIGNED_HEADERS = ("content-type", "host", "user-agent", "x-language", "x-project-id", "x-sdk-date",
                  "x-security-token")


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(canonical request, signed header list) as SDK-HMAC-SHA256 defines them. `headers` keys
    must be lower-case; every header given is signed."""
    uri = "/".join(quote(unquote(part), safe="~") for part in path.split("/"))
    if not uri.endswith("/"):
        uri += "/"
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    names = sorted(headers)
    canonical_headers = "".join(f"{name}:{str(headers[name]).strip()}\n" for name in names)
    signed = ";".join(names)
    payload_hash = hashlib.sha256(body).hexdigest()
    text = "\n".join([method.upper(), uri, canonical_query, canonical_headers, signed, payload_hash])
    return text, signed


def sign(sk: str, sdk_date: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the SK directly (no key derivation)."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    to_sign = f"{SIGNING_ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def own_authorization(ak: str, sk: str, method: str, url: str, headers: Mapping[str, str], body: bytes) -> str:
    """The Authorization header value computed by this module's implementation."""
    parts = urlsplit(url)
    canonical, signed = canonical_request(method, parts.path or "/", parts.query, headers, body)
    signature = sign(sk, headers["x-sdk-date"], canonical)
    return f"{SIGNING_ALGORITHM} Access={ak}, SignedHeaders={signed}, Signature={signature}"


#: Signs like the official SDK: (ak, sk, method, url, signed headers, body) -> Authorization or None.
Signer = Callable[[str, str, str, str, Mapping[str, str], bytes], str | None]


def load_sdk_signer() -> Signer | None:
    """The official SDK core's signer, or None when the SDK is not installed.

    Imported once, when an AkSkAuth is built on the caller's thread: the import warns, and
    silencing that means changing the process-wide warning filters, which worker threads
    must never do."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from huaweicloudsdkcore.sdk_request import SdkRequest
            from huaweicloudsdkcore.signer.signer import Signer as SdkSigner
    except Exception:
        return None

    def sign(ak: str, sk: str, method: str, url: str, headers: Mapping[str, str], body: bytes) -> str | None:
        try:
            parts = urlsplit(url)
            request = SdkRequest(method=method.upper(), schema=parts.scheme, host=parts.netloc,
                                 resource_path=parts.path or "/",
                                 query_params=parse_qsl(parts.query, keep_blank_values=True),
                                 header_params=dict(headers), body=body)
            SdkSigner(SimpleNamespace(ak=ak, sk=sk)).sign(request)
            value = request.header_params.get("Authorization")
        except Exception:
            return None  # the SDK's signer no longer works this way: ours signs instead
        return value if isinstance(value, str) and value.startswith(SIGNING_ALGORITHM) else None

    return sign


def sdk_authorization(ak: str, sk: str, method: str, url: str, headers: Mapping[str, str], body: bytes) -> str | None:
    """The Authorization header value as the official SDK core's Signer computes it, or None
    when the SDK is not installed or its signer no longer works this way."""
    signer = load_sdk_signer()
    return signer(ak, sk, method, url, headers, body) if signer is not None else None


def host_header(url: str) -> str:
    """The Host value http.client would send: the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{host}:{parts.port}" if parts.port and parts.port != default else host


class AkSkAuth:
    """AK/SK request signing (SDK-HMAC-SHA256), as the official SDK signs DRS calls.

    The official SDK core's signer is used when it is installed and works (it is the
    referee the server side is built against); otherwise this module's own implementation,
    which the tests check against the SDK's output. `use_sdk=False` forces our own.
    """

    def __init__(self, ak: str, sk: str, project_id: str, security_token: str | None = None, *,
                 use_sdk: bool = True, clock: Callable[[], datetime] | None = None) -> None:
        if not ak or not sk:
            raise InputError("{ak} and {sk} must both be set", ak=AK_VAR, sk=SK_VAR)
        self.ak = ak
        self._sk = sk
        self.project_id = project_id
        self._security_token = security_token or None
        self._sdk_sign = load_sdk_signer() if use_sdk else None
        self._clock = clock or (lambda: datetime.now(UTC))
        self.signer_used: str | None = None  # "sdk" or "own": which implementation signed last

    def apply(self, request: requests.PreparedRequest) -> None:
        url = request.url or ""
        request.headers["X-Sdk-Date"] = self._clock().strftime(SDK_DATE_FORMAT)
        request.headers["X-Project-Id"] = self.project_id
        request.headers["Host"] = host_header(url)
        if self._security_token:
            request.headers["X-Security-Token"] = self._security_token
        signed = {name: str(request.headers[name]) for name in SIGNED_HEADERS if name in request.headers}
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        method = request.method or "GET"
        value = self._sdk_sign(self.ak, self._sk, method, url, signed, body) if self._sdk_sign else None
        self.signer_used = "sdk" if value else "own"
        if value is None:
            value = own_authorization(self.ak, self._sk, method, url, signed, body)
        request.headers["Authorization"] = value

    def refresh(self) -> bool:
        return False  # a signature is made per request; a 401 means the keys or the clock are wrong

    def __repr__(self) -> str:
        token = ", security_token=******" if self._security_token else ""
        return f"AkSkAuth(ak={self.ak!r}, sk=******{token}, project_id={self.project_id!r})"


# -- choosing from the environment ----------------------------------------------------------

def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def project_id_from(option: str | None, env: Mapping[str, str]) -> str:
    """--project-id beats OS_PROJECT_ID: the command line is the more deliberate choice."""
    value = (option or "").strip() or _get(env, PROJECT_ID_VAR)
    if not value:
        raise InputError("give --project-id or set {name}", name=PROJECT_ID_VAR)
    if not _PROJECT_ID_RE.match(value):
        raise InputError("the project id may hold only letters, digits, '-' and '_' (at most 64)")
    return value


def auth_from_env(env: Mapping[str, str], *, project_id: str, session: requests.Session | None = None,
                  verify: bool | str = True) -> Auth:
    """The credential mode the environment provides, first match wins: OS_AUTH_TOKEN, then the
    OS_* password variables, then HUAWEICLOUD_SDK_AK/_SK. A partial password set with no
    other credentials is reported by the names that are missing (never any value)."""
    token = _get(env, TOKEN_VAR)
    if token:
        return TokenAuth(token)
    present = [name for name in PASSWORD_VARS if _get(env, name)]
    domain = next((_get(env, name) for name in DOMAIN_VARS if _get(env, name)), "")
    ak, sk = _get(env, AK_VAR), _get(env, SK_VAR)
    if len(present) == len(PASSWORD_VARS) and domain:
        # The password is taken as is: spaces at its ends may be part of it.
        return PasswordAuth(_get(env, "OS_AUTH_URL"), _get(env, "OS_USERNAME"), env["OS_PASSWORD"], domain,
                            project_id=project_id, project_name=_get(env, PROJECT_NAME_VAR) or None,
                            session=session, verify=verify)
    if ak and sk:
        return AkSkAuth(ak, sk, project_id, _get(env, SECURITY_TOKEN_VAR) or None)
    if present:
        missing = [name for name in PASSWORD_VARS if name not in present]
        if not domain:
            missing.append(" or ".join(DOMAIN_VARS))
        raise InputError("IAM password login is incomplete: set {names}", names=", ".join(missing))
    if ak or sk:
        raise InputError("AK/SK signing needs both {ak} and {sk}", ak=AK_VAR, sk=SK_VAR)
    raise InputError("no credentials: set {token}; or {password} and {domain}; or {ak} and {sk}", token=TOKEN_VAR,
                     password=", ".join(PASSWORD_VARS), domain=DOMAIN_VARS[0], ak=AK_VAR, sk=SK_VAR)
