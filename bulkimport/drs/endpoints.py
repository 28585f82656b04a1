"""Where the DRS API lives: `--endpoint` / `--region` to a base URL, and the URL's ledger key.

The base URL is what the client appends `/v3/{project_id}/...` to, so it may carry a path
prefix (a gateway that mounts DRS under `/drs`). The normalised form is part of the ledger
key: two spellings of the same endpoint must map to the same key, or a re-run against
`HTTPS://Host/` would not find what a run against `https://host` recorded, and could send a
task twice.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bulkimport.errors import InputError

#: Huawei Cloud regions the official SDK (huaweicloudsdkdrs 3.1.x) knows for DRS. All follow
#: `https://drs.{region}.myhuaweicloud.com` except those in HUAWEI_EXCEPTIONS.
HUAWEI_REGIONS: tuple[str, ...] = (
    "af-north-1", "af-south-1", "ae-ad-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5",
    "cn-north-1", "cn-north-2", "cn-north-4", "cn-north-9", "cn-north-11", "cn-north-12",
    "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2", "cn-southwest-3", "eu-west-0",
    "eu-west-101", "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1", "na-mexico-1",
    "ru-moscow-1", "ru-northwest-2", "sa-brazil-1", "tr-west-1",
)

#: Regions whose host does not follow the Huawei pattern, as the SDK's region table has them.
HUAWEI_EXCEPTIONS: dict[str, str] = {
    "eu-west-101": "https://drs.eu-west-101.myhuaweicloud.eu",
}

#: Open Telekom Cloud regions. The host is INFERRED (gophertelekomcloud derives the DRS host
#: from the catalogue's EVS host); no official table names it, so `--endpoint` can correct it.
OTC_REGIONS: tuple[str, ...] = ("eu-de", "eu-nl")

_REGION_RE = re.compile(r"^[a-z]{2}-[a-z]+-\d+$|^eu-(de|nl)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def region_url(region: str) -> str:
    """The DRS base URL for a region id; unknown but well-formed ids follow the Huawei pattern,
    because new Huawei regions appear faster than any table here is updated."""
    name = region.strip().lower()
    if not _REGION_RE.match(name):
        known = ", ".join(sorted((*HUAWEI_REGIONS, *OTC_REGIONS)))
        raise InputError("--region {region} is not a region id (like eu-de or ap-southeast-1); known: {known}",
                         region=repr(region), known=known)
    if name in OTC_REGIONS:
        return f"https://drs.{name}.otc.t-systems.com"
    return HUAWEI_EXCEPTIONS.get(name, f"https://drs.{name}.myhuaweicloud.com")


def _check_base_url(url: str) -> str:
    """A usable base URL with its trailing slashes removed, or InputError."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:  # "http://[::1": an IPv6 literal without its closing bracket
        raise InputError("--endpoint {url} is not a valid URL (check the brackets around an IPv6 address)",
                         url=repr(url)) from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise InputError("--endpoint {url} must be an http:// or https:// URL with a host", url=repr(url))
    if parts.query or parts.fragment:
        raise InputError("--endpoint {url} must not carry a query or fragment", url=repr(url))
    if parts.username or parts.password:
        # Never echo it: it may hold a password.
        raise InputError("--endpoint must not carry user credentials; use the environment variables")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InputError("--endpoint {url} has an invalid port", url=repr(url)) from exc
    return text.rstrip("/")


def resolve_endpoint(endpoint: str | None, region: str | None) -> str:
    """The DRS base URL from the options: `--endpoint` beats `--region` (it is the operator's
    correction when the region table is wrong); neither is an unusable invocation."""
    if endpoint:
        return _check_base_url(endpoint)
    if region:
        return region_url(region)
    raise InputError("give --endpoint URL or --region REGION (or --simulate)")


def normalise_endpoint(url: str) -> str:
    """Scheme, lower-cased host, explicit port and path without trailing slash: one spelling per
    endpoint, so the ledger recognises a campaign whichever way the operator typed the URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    path = parts.path.rstrip("/")
    netloc = f"{host}:{port}" if port else host
    return f"{scheme}://{netloc}{path}"
