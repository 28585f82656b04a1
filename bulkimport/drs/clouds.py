"""OpenStack-style configuration: a cloud named by `--os-cloud NAME` / `OS_CLOUD` in clouds.yaml.

Open Telekom Cloud and Huawei Cloud users already configure the `openstack` CLI with a
`clouds.yaml` (and often a `secure.yaml` holding the password). The file format, the search
path (`OS_CLIENT_CONFIG_FILE`, the current directory, `~/.config/openstack`, `/etc/openstack`),
the merging of `secure.yaml` and vendor profiles (`profile: otc` supplies the OTC IAM URL) are
`openstack.config`'s rules; this module asks that loader, the one the openstack CLI uses,
rather than parsing YAML by hand.

The cloud only fills gaps: `OS_AUTH_TOKEN` and the `OS_*` variables come first (DESIGN's
order), so `cloud_env` returns the environment with the cloud's values added under the
`OS_*` names that are not already set. Nothing here ever shows a value: errors name the
cloud, the file and the missing keys only.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from bulkimport.errors import InputError

CLOUD_VAR = "OS_CLOUD"
#: clouds.yaml `auth` keys -> the variable the rest of the tool reads, in the tool's order.
_AUTH_KEYS: tuple[tuple[str, str], ...] = (
    ("auth_url", "OS_AUTH_URL"),
    ("username", "OS_USERNAME"),
    ("password", "OS_PASSWORD"),
    ("user_domain_name", "OS_USER_DOMAIN_NAME"),
    ("domain_name", "OS_DOMAIN_NAME"),
    ("project_id", "OS_PROJECT_ID"),
    ("project_name", "OS_PROJECT_NAME"),
)
_PASSWORD_SET = ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD")


def cloud_name(env: Mapping[str, str]) -> str | None:
    """The cloud to read: `OS_CLOUD` (which `--os-cloud NAME` sets for the run)."""
    name = (env.get(CLOUD_VAR) or "").strip()
    return name or None


def load_cloud(name: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The named cloud's settings as openstack.config resolves them (search path, secure.yaml,
    vendor profile); InputError (exit 2) when it cannot be found or read."""
    try:
        from openstack import exceptions as os_exceptions
        from openstack.config import loader
    except ImportError:  # pragma: no cover - a declared dependency; kept for a broken install
        raise InputError("--os-cloud / OS_CLOUD needs the openstacksdk package (pip install openstacksdk)") from None

    files = list(loader.CONFIG_FILES)
    secure = list(loader.SECURE_FILES)
    if (env.get("OS_CLIENT_CONFIG_FILE") or "").strip():
        files.insert(0, env["OS_CLIENT_CONFIG_FILE"].strip())
    if (env.get("OS_CLIENT_SECURE_FILE") or "").strip():
        secure.insert(0, env["OS_CLIENT_SECURE_FILE"].strip())
    try:
        # load_envvars=False: the OS_* variables are the tool's own business (they come first).
        config = loader.OpenStackConfig(config_files=files, secure_files=secure, load_envvars=False)
        if config.config_filename is None:
            raise InputError("--os-cloud {name}: no readable clouds.yaml (looked in {files}, ...; "
                             "OS_CLIENT_CONFIG_FILE names another)", name=name, files=", ".join(files[:4]))
        if name not in config.get_cloud_names():
            raise InputError("--os-cloud {name}: no such cloud in {file}", name=name, file=config.config_filename)
        with warnings.catch_warnings():  # the SDK's notes on its own optional features are not the operator's
            warnings.simplefilter("ignore")
            region = config.get_one(cloud=name, validate=False)
    except InputError:
        raise
    except (os_exceptions.SDKException, OSError, ValueError) as exc:
        raise InputError("--os-cloud {name}: cannot read clouds.yaml ({kind}: {reason})", name=name,
                         kind=type(exc).__name__, reason=_first_line(exc)) from None
    except Exception as exc:
        raise InputError("--os-cloud {name}: clouds.yaml is not valid ({reason})", name=name,
                         reason=_first_line(exc)) from None
    settings = dict(region.config)
    settings["region_name"] = region.region_name or settings.get("region_name") or ""
    settings["_file"] = config.config_filename or ""
    return settings


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def cloud_env(env: Mapping[str, str]) -> Mapping[str, str]:
    """`env` with the OS_CLOUD cloud's credentials and project added where `env` has none;
    `env` itself when no cloud is named. OS_AUTH_TOKEN and a complete OS_* password set in
    the environment win over anything in the file."""
    name = cloud_name(env)
    if name is None:
        return env
    cloud = load_cloud(name, env)
    auth = cloud.get("auth") or {}
    merged = dict(env)
    env_token = (env.get("OS_AUTH_TOKEN") or "").strip()
    env_password_set = all((env.get(v) or "").strip() for v in _PASSWORD_SET)
    for key, variable in _AUTH_KEYS:
        value = auth.get(key)
        if value and not (merged.get(variable) or "").strip():
            merged[variable] = str(value)
    token = auth.get("token")
    if str(cloud.get("auth_type") or "").startswith("token") or token:
        if not token:
            raise InputError("--os-cloud {name}: auth_type token needs auth.token in {file}", name=name,
                             file=cloud.get("_file"))
        if not env_token and not env_password_set:
            merged["OS_AUTH_TOKEN"] = str(token)
    elif not env_token and not env_password_set:
        missing = [k for k, v in _AUTH_KEYS[:3] if not (merged.get(v) or "").strip()]
        if not any((merged.get(v) or "").strip() for v in ("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")):
            missing.append("user_domain_name")
        if missing and not (env.get("HUAWEICLOUD_SDK_AK") and env.get("HUAWEICLOUD_SDK_SK")):
            raise InputError("--os-cloud {name}: the cloud in {file} lacks {keys} (needed for an IAM password login)",
                             name=name, file=cloud.get("_file"), keys=", ".join(f"auth.{k}" for k in missing))
    if cloud.get("region_name") and not (merged.get("OS_REGION_NAME") or "").strip():
        merged["OS_REGION_NAME"] = str(cloud["region_name"])
    return merged


def cloud_region(env: Mapping[str, str]) -> str | None:
    """The region the OS_CLOUD cloud names (used for `--region` when neither --endpoint nor
    --region is given), or None."""
    if cloud_name(env) is None:
        return None
    region = (cloud_env(env).get("OS_REGION_NAME") or "").strip()
    return region or None
