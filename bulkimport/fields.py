"""The field catalogue: the single source of truth for every template column.

Everything else is derived from this module: the template's columns, dropdowns and help,
the reader's column mapping, the pandera schema, the payload builder, the `Fields` sheet
and the README's field reference. If a column name, an allowed value or a limit is written
anywhere else in the tool, that other place is wrong.

Keys are the API's own JSON paths (`source_endpoint.db_port`), typos included
(`customize_sutnet_id`). Two columns do not map one-to-one onto a JSON key: `tags`
(one cell of `key=value;key=value` pairs -> an array of ResourceTag) and
`enterprise_project_id` (-> `sys_tags` with key `_sys_enterprise_project_id`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum

#: Bumped whenever the catalogue changes (anything `catalogue_hash` covers: a column, a value,
#: a limit, a rule, a help text), so that a workbook made from an older template gets a
#: `stale_template` warning that names both versions; tests/test_template_version.py records
#: the hash of each version and fails on a change without a bump (docs/decisions.md,
#: "Template versions").
TEMPLATE_VERSION = "2026.11.3"

#: The tool's own limit on requests in flight at once (`--concurrency`): worker threads that
#: share one connection pool; more would only meet the service's throttling sooner.
MAX_CONCURRENCY = 32

#: The languages of the catalogue's texts (template, messages) and of the API's X-Language header.
LANGUAGES: tuple[str, ...] = ("en-us", "zh-cn")

#: Huawei's international API page: "You can call a maximum of 10 APIs in batches".
#: The OTC page states no limit; 10 is safe on both clouds.
MAX_JOBS_PER_REQUEST = 10

#: The only key the API accepts in `sys_tags`.
ENTERPRISE_PROJECT_TAG_KEY = "_sys_enterprise_project_id"

#: Tag limits (Table 6 and the `tags` row of Table 4).
MAX_TAGS = 20
TAG_KEY_MAX = 36
TAG_VALUE_MAX = 43
TAG_TEXT_RE = re.compile(r"^[\w-]*$")  # letters (the SDK allows Chinese too), digits, _ and -

#: Task name: 4-50 letters/digits/-/_; the SDK and the OTC manual add "starts with a letter".
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
#: Description: characters the API refuses.
DESCRIPTION_FORBIDDEN = "!<>'&\"\\"
#: A UUID in its canonical 8-4-4-4-12 hex form (`customize_sutnet_id`).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#: Enterprise project IDs: a UUID, or "0" for the default project; one ID, no separators.
ENTERPRISE_PROJECT_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

#: A password-like cell may hold `env:NAME` instead of the secret itself; it is resolved at
#: send time and is not itself a secret.
ENV_REFERENCE_RE = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")

#: What a secret cell that held a literal value shows wherever it is written or stored.
SECRET_MASK = "******"


#: What looks like an attempt at a reference (any case, spaces around the colon, a full-width
#: colon): a secret cell that starts like this but is not a valid `env:NAME` is an
#: `env_reference` finding, never sent as a literal password. (So a literal secret cannot
#: start with "env:"; the finding says so.)
ENV_REFERENCE_LOOKALIKE_RE = re.compile(r"^\s*env\s*[:\uff1a]", re.IGNORECASE)


def is_env_reference(value: object) -> bool:
    """True for an `env:NAME` reference (surrounding spaces allowed): it names a secret, it is not one."""
    return isinstance(value, str) and ENV_REFERENCE_RE.match(value.strip()) is not None


def is_broken_env_reference(value: object) -> bool:
    """True for a cell that looks like an `env:NAME` reference but is not a valid one
    (`ENV:NAME`, `env: NAME`, `env:NAME-X`, `env:`): it must not be taken as the secret itself."""
    return (isinstance(value, str) and ENV_REFERENCE_LOOKALIKE_RE.match(value) is not None
            and ENV_REFERENCE_RE.match(value.strip()) is None)


class Kind(StrEnum):
    """How a cell is parsed and how its value goes on the wire."""

    TEXT = "text"
    ENUM = "enum"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    #: An integer range in the workbook, a JSON string on the wire (`expired_days`).
    INTEGER_STRING = "integer_string"
    UUID = "uuid"
    IP = "ip"
    BASE64 = "base64"
    TAGS = "tags"
    ENTERPRISE_PROJECT = "enterprise_project"
    #: `;`-separated `database` / `database.table` entries (`objects`): what a task replicates.
    OBJECTS = "objects"


class Stage(StrEnum):
    """Which API call a column feeds. Only CREATE columns go into the batch-creation body;
    LAUNCH columns are read by `prepare` / `start` (e.g. `objects` -> batch-select-objects)."""

    CREATE = "create"
    LAUNCH = "launch"


class Group(StrEnum):
    """Column groups of the template, in the order they appear."""

    TASK = "task"
    NETWORK = "network"
    SOURCE = "source"
    TARGET = "target"
    TAGS = "tags"
    LAUNCH = "launch"


GROUP_LABELS: dict[Group, dict[str, str]] = {
    Group.TASK: {"en-us": "Task", "zh-cn": "任务"},
    Group.NETWORK: {"en-us": "Network", "zh-cn": "网络"},
    Group.SOURCE: {"en-us": "Source database", "zh-cn": "源数据库"},
    Group.TARGET: {"en-us": "Destination database", "zh-cn": "目标数据库"},
    Group.TAGS: {"en-us": "Tags and enterprise project", "zh-cn": "标签与企业项目"},
    Group.LAUNCH: {"en-us": "Launch", "zh-cn": "启动"},
}

GROUP_HELP: dict[Group, dict[str, str]] = {
    Group.TASK: {"en-us": "What the task is: its unique name, scenario, engine, direction, mode and options.",
                 "zh-cn": "任务是什么：唯一名称、场景、引擎、方向、迁移模式及其他选项。"},
    Group.NETWORK: {"en-us": "How the DRS instance reaches the databases: network type, EIP, subnet, flavor and AZs.",
                    "zh-cn": "DRS实例如何连接数据库：网络类型、EIP、子网、规格和可用区。"},
    Group.SOURCE: {"en-us": "Where data comes from: the source database's type, instance, address and credentials.",
                   "zh-cn": "数据从哪里来：源数据库的类型、实例、地址和登录信息。"},
    Group.TARGET: {"en-us": "Where data goes: the destination database's type, instance, address and credentials.",
                   "zh-cn": "数据到哪里去：目标数据库的类型、实例、地址和登录信息。"},
    Group.TAGS: {"en-us": "Bookkeeping: resource tags and the enterprise project the task is billed to.",
                 "zh-cn": "管理信息：资源标签和任务所属的企业项目。"},
    Group.LAUNCH: {"en-us": "What `prepare` and `start` need after creation: the objects to replicate. "
                            "Not sent with batch-creation.",
                   "zh-cn": "任务创建后prepare和start命令需要的信息：要迁移的对象。创建任务时不提交。"},
}


@dataclass(frozen=True)
class Field:
    """One template column and everything the tool knows about it."""

    key: str
    label: str
    label_zh: str
    group: Group
    kind: Kind
    help: str
    help_zh: str
    mandatory: bool = False
    #: Value used when the cell is blank (and a `default_applied` warning is given).
    default: str | None = None
    allowed: tuple[str, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    #: Passwords and keys: never printed, logged or written back.
    secret: bool = False
    #: Pre-format the column as Text so Excel does not turn IDs into numbers or dates.
    text_format: bool = False
    #: A regular expression every non-blank value must match (`re.match`, so anchor it with
    #: ^...$; checked with pandera's `str_matches`). The finding code of a mismatch is the
    #: kind's: `uuid`, `enterprise_project`, else `pattern`.
    pattern: str | None = None
    #: The message (an id of `findings.MESSAGES`) of a value that does not match `pattern`;
    #: blank: the finding code's own (a UUID or an enterprise project ID says what it is).
    pattern_message: str = ""
    #: Characters a value must not contain (a `pattern` finding naming the ones found).
    forbidden: str = ""
    #: Free-text rule shown on the Fields sheet (cross-field conditions live in RULES).
    rule: str = ""
    #: Which API call the column feeds; only Stage.CREATE columns are in the creation body.
    stage: Stage = Stage.CREATE
    #: Characters a typical value takes where neither `max_length` nor the kind says so (cloud
    #: IDs, regions, user names): the template sizes the column to show a whole value.
    typical_length: int | None = None

    @property
    def endpoint(self) -> str | None:
        """`source_endpoint` / `target_endpoint` for endpoint columns, else None."""
        head, _, _ = self.key.partition(".")
        return head if head in ENDPOINTS else None

    @property
    def attribute(self) -> str:
        """The JSON key inside its object (`db_port` for `source_endpoint.db_port`)."""
        return self.key.rpartition(".")[2]

    def label_for(self, language: str) -> str:
        return self.label_zh if language == "zh-cn" else self.label

    def help_for(self, language: str) -> str:
        return self.help_zh if language == "zh-cn" else self.help


ENDPOINTS = ("source_endpoint", "target_endpoint")
#: What the connection test (batch-connection, `bulkimport prepare`) needs of each endpoint:
#: its page marks them mandatory, the creation page does not. A blank one is the
#: `connection_incomplete` warning at validation and the reason prepare skips the test.
CONNECTION_FIELDS = ("ip", "db_user", "db_password")

DB_USE_TYPES = ("migration", "sync", "cloudDataGuard")
ENGINE_TYPES = ("mysql", "mongodb", "cloudDataGuard-mysql", "mysql-to-taurus", "postgresql")
JOB_DIRECTIONS = ("up", "down", "non-dbs")
NET_TYPES = ("vpn", "vpc", "eip")
NODE_TYPES = ("high",)
TASK_TYPES = ("FULL_TRANS", "FULL_INCR_TRANS", "INCR_TRANS")
DB_TYPES = ("mysql", "mongodb", "taurus", "postgresql")
CLUSTER_MODES = ("Sharding4.0+",)
BOOLEAN_VALUES = ("true", "false")

#: `objects`: entries are separated by ';', the parts of one entry by '.'.
OBJECTS_SEPARATOR = ";"
OBJECT_PART_SEPARATOR = "."
#: Longest object name part: MySQL and MongoDB database names allow 64 characters and
#: PostgreSQL identifiers 63; 64 is the common ceiling (a longer name cannot exist).
OBJECT_NAME_MAX = 64
#: Longest `objects` cell (a generous bound that keeps one request body reasonable).
OBJECTS_MAX_LENGTH = 4000
#: How deep an entry may go per engine: database[.table] (MongoDB: database[.collection]);
#: PostgreSQL adds the schema level: database[.schema[.table]].
OBJECT_DEPTH: dict[str, int] = {
    "mysql": 2, "mongodb": 2, "cloudDataGuard-mysql": 2, "mysql-to-taurus": 2, "postgresql": 3,
}

#: Which scenarios each engine serves (Table 4, engine_type).
ENGINE_SCENARIOS: dict[str, tuple[str, ...]] = {
    "mysql": ("migration", "sync"),
    "mongodb": ("migration",),
    "cloudDataGuard-mysql": ("cloudDataGuard",),
    "mysql-to-taurus": ("sync",),
    "postgresql": ("sync",),
}

#: (source db_type, destination db_type) of each engine (Table 4 engine_type descriptions;
#: DDS and GaussDB(for MySQL) are `mongodb` and `taurus` on the wire).
ENGINE_DB_TYPES: dict[str, tuple[str, str]] = {
    "mysql": ("mysql", "mysql"),
    "mongodb": ("mongodb", "mongodb"),
    "cloudDataGuard-mysql": ("mysql", "mysql"),
    "mysql-to-taurus": ("mysql", "taurus"),
    "postgresql": ("postgresql", "postgresql"),
}

#: Engines whose tasks may pin master_az / slave_az ("MySQL are supported").
AZ_ENGINES = ("mysql", "cloudDataGuard-mysql", "mysql-to-taurus")

#: The only task mode of single-active DR.
SINGLE_ACTIVE_DR_TASK_TYPE = "FULL_INCR_TRANS"


def _task_fields() -> list[Field]:
    return [
        Field(
            "name", "Task name", "任务名称", Group.TASK, Kind.TEXT, mandatory=True,
            min_length=4, max_length=50, text_format=True, pattern=NAME_PATTERN,
            pattern_message="pattern:name",
            help="Unique task name, 4-50 characters: letters, digits, - and _, starting with a letter. "
                 "Names are case-insensitive and must be unique in the workbook and on the server.",
            help_zh="唯一的任务名称，4-50个字符，只能包含字母、数字、中划线和下划线，且以字母开头。"
                    "名称不区分大小写，在工作簿和服务端都必须唯一。",
            rule=f"4-50 chars; {NAME_PATTERN}; unique case-insensitively",
        ),
        Field(
            "db_use_type", "Scenario", "场景", Group.TASK, Kind.ENUM, mandatory=True, allowed=DB_USE_TYPES,
            help="migration = real-time migration, sync = real-time synchronization, "
                 "cloudDataGuard = real-time disaster recovery.",
            help_zh="migration：实时迁移；sync：实时同步；cloudDataGuard：实时灾备。",
        ),
        Field(
            "engine_type", "Engine", "引擎类型", Group.TASK, Kind.ENUM, mandatory=True, allowed=ENGINE_TYPES,
            help="mysql (MySQL to MySQL, migration or sync), mongodb (MongoDB to DDS, migration), "
                 "cloudDataGuard-mysql (MySQL DR), mysql-to-taurus (MySQL to GaussDB(for MySQL), sync), "
                 "postgresql (PostgreSQL to PostgreSQL, sync).",
            help_zh="mysql（MySQL到MySQL，迁移或同步）；mongodb（MongoDB到DDS，迁移）；cloudDataGuard-mysql"
                    "（MySQL灾备）；mysql-to-taurus（MySQL到GaussDB(for MySQL)，同步）；postgresql（同步）。",
        ),
        Field(
            "job_direction", "Direction", "任务方向", Group.TASK, Kind.ENUM, mandatory=True,
            allowed=JOB_DIRECTIONS,
            help="up = into the cloud (for DR: this cloud is the standby); down = out of the cloud "
                 "(for DR: this cloud is the active one); non-dbs = self-built databases.",
            help_zh="up：入云（灾备场景下本云为备）；down：出云（灾备场景下本云为主）；non-dbs：自建数据库。",
        ),
        Field(
            "task_type", "Task mode", "迁移模式", Group.TASK, Kind.ENUM, mandatory=True,
            default="FULL_INCR_TRANS", allowed=TASK_TYPES,
            help="FULL_TRANS = full, FULL_INCR_TRANS = full + incremental (default when blank), "
                 "INCR_TRANS = incremental. Single-active DR allows only FULL_INCR_TRANS.",
            help_zh="FULL_TRANS：全量；FULL_INCR_TRANS：全量+增量（留空时的默认值）；INCR_TRANS：增量。"
                    "单主灾备只支持FULL_INCR_TRANS。",
        ),
        Field(
            "multi_write", "Dual-active DR", "双主灾备", Group.TASK, Kind.BOOLEAN, allowed=BOOLEAN_VALUES,
            help="Mandatory for disaster recovery: true for dual-active DR, false for single-active. "
                 "Optional otherwise (the API's default is false).",
            help_zh="灾备场景必填：双主灾备为true，单主灾备为false。其他场景可不填（默认false）。",
        ),
        Field(
            "is_target_readonly", "Destination read-only", "目标库只读", Group.TASK, Kind.BOOLEAN,
            allowed=BOOLEAN_VALUES,
            help="Whether the destination becomes read-only. Only for a MySQL destination with direction up; "
                 "must be true for DR when this cloud is the standby. The API's default is true.",
            help_zh="目标库是否设为只读。仅适用于目标为MySQL且方向为up的任务；灾备场景本云为备时必须为true。"
                    "默认true。",
        ),
        Field(
            "expired_days", "Auto-stop after (days)", "异常自动结束天数", Group.TASK, Kind.INTEGER_STRING,
            minimum=14, maximum=100,
            help="Days a task may stay abnormal before it is stopped automatically: 14-100 "
                 "(the API's default is 14).",
            help_zh="任务处于异常状态多少天后自动结束，取值14-100，默认14。",
        ),
        Field(
            "description", "Description", "任务描述", Group.TASK, Kind.TEXT, max_length=256,
            forbidden=DESCRIPTION_FORBIDDEN,
            help="Free text up to 256 characters, without any of ! < > ' & \" \\",
            help_zh="最多256个字符，不能包含 ! < > ' & \" \\ 这些字符。",
            rule=f"<= 256 chars; none of {DESCRIPTION_FORBIDDEN}",
        ),
    ]


def _network_fields() -> list[Field]:
    return [
        Field(
            "net_type", "Network type", "网络类型", Group.NETWORK, Kind.ENUM, mandatory=True,
            allowed=NET_TYPES,
            help="vpn, vpc or eip. eip needs 'Bind EIP' = true; vpc is not allowed for disaster recovery.",
            help_zh="vpn、vpc或eip。eip需要“绑定EIP”为true；灾备场景不能选vpc。",
        ),
        Field(
            "bind_eip", "Bind EIP", "绑定EIP", Group.NETWORK, Kind.BOOLEAN, allowed=BOOLEAN_VALUES,
            help="Whether to bind an EIP to the DRS instance. Must be true when the network type is eip.",
            help_zh="是否绑定弹性公网IP。网络类型为eip时必须为true。",
        ),
        Field(
            "customize_sutnet_id", "DRS subnet ID", "DRS实例子网ID", Group.NETWORK, Kind.UUID, mandatory=True,
            text_format=True, pattern=UUID_PATTERN,
            help="UUID of the subnet the DRS instance is placed in: the network ID of a subnet in the "
                 "destination database's VPC. (The API spells this field 'sutnet'.)",
            help_zh="DRS实例所在子网的ID（UUID格式），即目标库所在VPC中子网的网络ID。",
            rule="UUID",
        ),
        Field(
            "node_type", "Flavor", "规格类型", Group.NETWORK, Kind.ENUM, mandatory=True, allowed=NODE_TYPES,
            help="The DRS instance flavor. The API page allows only 'high'.",
            help_zh="DRS实例规格，接口只支持high。",
        ),
        Field(
            "node_num", "Nodes / shards", "节点数", Group.NETWORK, Kind.INTEGER, minimum=1, maximum=32,
            help="Number of nodes, 1-32. For MongoDB it is the number of source shards and is mandatory "
                 "when the source is a cluster.",
            help_zh="节点数，1-32。MongoDB表示源库分片个数，源库为集群时必填。",
        ),
        Field(
            "master_az", "Primary task AZ", "主任务可用区", Group.NETWORK, Kind.TEXT, text_format=True,
            typical_length=14,
            help="AZ of the primary task. MySQL engines only; takes effect only together with the "
                 "standby task AZ.",
            help_zh="主任务所在可用区。仅MySQL引擎支持；需与备任务可用区同时填写才生效。",
        ),
        Field(
            "slave_az", "Standby task AZ", "备任务可用区", Group.NETWORK, Kind.TEXT, text_format=True,
            typical_length=14,
            help="AZ of the standby task. MySQL engines only; takes effect only together with the "
                 "primary task AZ.",
            help_zh="备任务所在可用区。仅MySQL引擎支持；需与主任务可用区同时填写才生效。",
        ),
    ]


_ENDPOINT_SPECS: list[dict] = [
    dict(attribute="db_type", label="DB type", label_zh="数据库类型", kind=Kind.ENUM, allowed=DB_TYPES,
         help="mysql, mongodb, taurus (GaussDB(for MySQL)) or postgresql; must fit the engine.",
         help_zh="mysql、mongodb、taurus（GaussDB(for MySQL)）或postgresql，须与引擎类型匹配。"),
    dict(attribute="region", label="Region", label_zh="区域", kind=Kind.TEXT, text_format=True,
         typical_length=14,
         help="Region of a cloud instance (e.g. eu-de). Mandatory on the cloud side: the destination "
              "for direction up, the source for direction down.",
         help_zh="云实例所在区域（如eu-de）。云上一侧必填：方向为up时填目标库，方向为down时填源库。"),
    dict(attribute="inst_id", label="Instance ID", label_zh="实例ID", kind=Kind.TEXT, text_format=True,
         typical_length=36,
         help="ID of the RDS / GaussDB / DDS instance. Mandatory on the cloud side, like Region.",
         help_zh="RDS/GaussDB/DDS实例ID。与区域一样，云上一侧必填。"),
    dict(attribute="inst_name", label="Instance name", label_zh="实例名称", kind=Kind.TEXT,
         typical_length=24,
         help="Name of the RDS or GaussDB(for MySQL) instance.",
         help_zh="RDS或GaussDB(for MySQL)实例名称。"),
    dict(attribute="project_id", label="Instance project ID", label_zh="实例项目ID", kind=Kind.TEXT,
         typical_length=32,
         text_format=True, help="Project ID of the RDS or GaussDB(for MySQL) instance.",
         help_zh="RDS或GaussDB(for MySQL)实例所属项目ID。"),
    dict(attribute="az_code", label="AZ code", label_zh="可用区编码", kind=Kind.TEXT, text_format=True,
         typical_length=14,
         help="azCode of the AZ where the database runs.", help_zh="数据库所在可用区的azCode。"),
    dict(attribute="vpc_id", label="VPC ID", label_zh="VPC ID", kind=Kind.TEXT, text_format=True,
         typical_length=36,
         help="ID of the VPC the database is in.", help_zh="数据库所在VPC的ID。"),
    dict(attribute="subnet_id", label="Subnet ID", label_zh="子网ID", kind=Kind.TEXT, text_format=True,
         typical_length=36,
         help="ID of the subnet the database is in.", help_zh="数据库所在子网的ID。"),
    dict(attribute="security_group_id", label="Security group ID", label_zh="安全组ID", kind=Kind.TEXT,
         typical_length=36,
         text_format=True, help="ID of the security group of the database.", help_zh="数据库所属安全组的ID。"),
    dict(attribute="ip", label="IP address", label_zh="IP地址", kind=Kind.IP, text_format=True,
         help="IP address of the database (IPv4 or IPv6).", help_zh="数据库IP地址（IPv4或IPv6）。",
         rule="IPv4 or IPv6 address"),
    dict(attribute="db_port", label="Port", label_zh="端口", kind=Kind.INTEGER, minimum=1, maximum=65535,
         help="Database port, a whole number from 1 to 65535.", help_zh="数据库端口，1-65535的整数。"),
    dict(attribute="db_user", label="User", label_zh="用户名", kind=Kind.TEXT, text_format=True,
         typical_length=16,
         help="Database user.", help_zh="数据库用户名。"),
    dict(attribute="db_password", label="Password", label_zh="密码", kind=Kind.TEXT, secret=True,
         typical_length=20,
         text_format=True,
         help="Database password, or env:NAME to read it from environment variable NAME when sending. "
              "Never written back: results show ******.",
         help_zh="数据库密码，或写env:变量名，在提交时从环境变量读取。结果中不会回写密码（显示******）。"),
    dict(attribute="mongo_ha_mode", label="MongoDB HA mode", label_zh="MongoDB高可用模式", kind=Kind.TEXT,
         typical_length=12,
         help="MongoDB HA mode.", help_zh="MongoDB高可用模式。"),
    dict(attribute="cluster_mode", label="MongoDB cluster mode", label_zh="MongoDB集群模式", kind=Kind.ENUM,
         allowed=CLUSTER_MODES,
         help="MongoDB only: Sharding4.0+ for a MongoDB 4.0+ cluster whose shard IPs cannot be obtained. "
              "A MongoDB source with a cluster mode is a cluster and needs 'Nodes / shards'.",
         help_zh="仅MongoDB：4.0及以上集群无法获取分片IP时选Sharding4.0+。源库填写集群模式即视为集群，"
                 "须填写节点数。"),
    dict(attribute="ssl_link", label="SSL", label_zh="SSL连接", kind=Kind.BOOLEAN, allowed=BOOLEAN_VALUES,
         help="Whether the connection uses SSL. On the source, SSL needs the certificate checksum.",
         help_zh="是否启用SSL。源库启用SSL时须填写证书校验值。"),
    dict(attribute="ssl_cert_name", label="SSL certificate name", label_zh="SSL证书名称", kind=Kind.TEXT,
         typical_length=24,
         help="File name of the SSL certificate (.p12 when it has a password).",
         help_zh="SSL证书文件名（有证书密码时为.p12）。"),
    dict(attribute="ssl_cert_check_sum", label="SSL certificate checksum", label_zh="SSL证书校验值",
         kind=Kind.TEXT, text_format=True,
         typical_length=64,
         help="Checksum of the SSL certificate, checked by the service; mandatory for SSL to the source.",
         help_zh="SSL证书的校验值，用于后台校验；源库启用SSL时必填。"),
    dict(attribute="ssl_cert_key", label="SSL certificate (Base64)", label_zh="SSL证书内容（Base64）",
         kind=Kind.BASE64, secret=True, text_format=True,
         typical_length=24,
         help="Certificate content encoded in Base64, or env:NAME. Never written back.",
         help_zh="Base64编码的证书内容，或env:变量名。结果中不会回写。", rule="valid Base64"),
    dict(attribute="ssl_cert_password", label="SSL certificate password", label_zh="SSL证书密码",
         kind=Kind.TEXT, secret=True, text_format=True,
         typical_length=24,
         help="Password of a .p12 certificate, or env:NAME. Never written back.",
         help_zh=".p12证书的密码，或env:变量名。结果中不会回写。"),
]


def _endpoint_fields(endpoint: str) -> list[Field]:
    group = Group.SOURCE if endpoint == "source_endpoint" else Group.TARGET
    side_en = "Source" if group is Group.SOURCE else "Destination"
    side_zh = "源库" if group is Group.SOURCE else "目标库"
    fields = []
    for spec in _ENDPOINT_SPECS:
        spec = dict(spec)
        attribute = spec.pop("attribute")
        fields.append(
            Field(
                key=f"{endpoint}.{attribute}",
                label=f"{side_en} {spec.pop('label')}",
                label_zh=f"{side_zh}{spec.pop('label_zh')}",
                group=group,
                **spec,
            )
        )
    return fields


def _tag_fields() -> list[Field]:
    return [
        Field(
            "tags", "Tags", "标签", Group.TAGS, Kind.TAGS, typical_length=32,
            help=f"Up to {MAX_TAGS} tags as key=value pairs separated by ';' (e.g. owner=dba-team;wave=3). "
                 f"Keys up to {TAG_KEY_MAX} and values up to {TAG_VALUE_MAX} letters, digits, - and _; "
                 "keys unique.",
            help_zh=f"最多{MAX_TAGS}个标签，格式key=value，用;分隔（如owner=dba-team;wave=3）。键最长{TAG_KEY_MAX}、"
                    f"值最长{TAG_VALUE_MAX}个字符，只能包含字母、数字、-和_，键不能重复。",
            rule=f"<= {MAX_TAGS} key=value pairs; key <= {TAG_KEY_MAX}, value <= {TAG_VALUE_MAX}",
        ),
        Field(
            "enterprise_project_id", "Enterprise project ID", "企业项目ID", Group.TAGS, Kind.ENTERPRISE_PROJECT,
            text_format=True, pattern=ENTERPRISE_PROJECT_PATTERN,
            help="One enterprise project ID; sent as sys_tags _sys_enterprise_project_id. "
                 "Blank = the default project.",
            help_zh="一个企业项目ID，以sys_tags（_sys_enterprise_project_id）提交。留空为default。",
            rule="one enterprise project at most",
        ),
    ]


def _launch_fields() -> list[Field]:
    return [
        Field(
            "objects", "Objects to replicate", "迁移对象", Group.LAUNCH, Kind.OBJECTS,
            max_length=OBJECTS_MAX_LENGTH, text_format=True, stage=Stage.LAUNCH,
            help="Blank = the whole instance. Otherwise entries separated by ';': a database (sales) or "
                 "database.table (sales.orders); MongoDB database.collection; PostgreSQL database, "
                 "database.schema or database.schema.table (erp.public.orders). Names may not contain "
                 f"'.' or ';' and are at most {OBJECT_NAME_MAX} characters; no entry twice. "
                 "Not for disaster recovery. Used by 'bulkimport prepare', not sent at creation.",
            help_zh="留空表示整个实例。否则用;分隔多个对象：库（sales）或库.表（sales.orders）；MongoDB为"
                    "库.集合；PostgreSQL为库、库.模式或库.模式.表（erp.public.orders）。名称不能包含.或;，"
                    f"最长{OBJECT_NAME_MAX}个字符；同一对象不能重复。灾备任务不填。由prepare命令使用，创建任务时不提交。",
            rule=f"db[.table] (PostgreSQL db[.schema[.table]]) separated by ';'; each name <= {OBJECT_NAME_MAX} "
                 "chars, no '.' or ';'; no repeats; e.g. sales;crm.customers",
        ),
    ]


def _build_catalogue() -> tuple[Field, ...]:
    return tuple(
        _task_fields()
        + _network_fields()
        + _endpoint_fields("source_endpoint")
        + _endpoint_fields("target_endpoint")
        + _tag_fields()
        + _launch_fields()
    )


#: Every template column, in template order.
CATALOGUE: tuple[Field, ...] = _build_catalogue()
FIELDS: dict[str, Field] = {f.key: f for f in CATALOGUE}
KEYS: tuple[str, ...] = tuple(FIELDS)
#: The columns of the batch-creation body (the API page's Tables 4-6), in template order.
CREATION_KEYS: tuple[str, ...] = tuple(f.key for f in CATALOGUE if f.stage is Stage.CREATE)
SECRET_KEYS: frozenset[str] = frozenset(f.key for f in CATALOGUE if f.secret)
MANDATORY_KEYS: tuple[str, ...] = tuple(f.key for f in CATALOGUE if f.mandatory)
#: Columns without which a workbook cannot be used at all (a blank task_type has a default).
REQUIRED_COLUMNS: tuple[str, ...] = tuple(f.key for f in CATALOGUE if f.mandatory and f.default is None)


@dataclass(frozen=True)
class Rule:
    """A documented cross-field or cross-row rule; schema.py implements each by its code."""

    code: str
    columns: tuple[str, ...]
    text: str
    severity: str = "error"
    text_zh: str = ""

    def text_for(self, language: str) -> str:
        return self.text_zh if language == "zh-cn" and self.text_zh else self.text


RULES: tuple[Rule, ...] = (
    Rule("cross_field.engine_scenario", ("engine_type", "db_use_type"),
         "The engine must serve the scenario: " + "; ".join(
             f"{e}: {'/'.join(s)}" for e, s in ENGINE_SCENARIOS.items()),
         text_zh="引擎类型须与场景匹配：mysql用于迁移或同步；mongodb用于迁移；cloudDataGuard-mysql用于灾备；mysql-to-taurus和postgresql用于同步。"),
    Rule("cross_field.engine_db_type",
         ("source_endpoint.db_type", "target_endpoint.db_type"),
         "Endpoint DB types must fit the engine: " + "; ".join(
             f"{e}: {s}->{t}" for e, (s, t) in ENGINE_DB_TYPES.items()),
         text_zh="源库和目标库的数据库类型须与引擎类型匹配。"),
    Rule("cross_field.eip_bind", ("bind_eip",), "Network type eip needs Bind EIP = true.",
         text_zh="网络类型为eip时，绑定EIP须为true。"),
    Rule("cross_field.dr_no_vpc", ("net_type",), "Network type vpc is not allowed for disaster recovery.",
         text_zh="灾备场景不能选择vpc网络。"),
    Rule("cross_field.dr_multi_write", ("multi_write",), "Disaster recovery needs Dual-active DR (true/false).",
         text_zh="灾备场景须填写双主灾备（true/false）。"),
    Rule("cross_field.single_active_task_type", ("task_type",),
         f"Single-active DR (multi_write false) allows only {SINGLE_ACTIVE_DR_TASK_TYPE}.",
         text_zh="单主灾备（multi_write为false）只支持FULL_INCR_TRANS。"),
    Rule("cross_field.cloud_side_instance",
         ("target_endpoint.region", "target_endpoint.inst_id", "source_endpoint.region", "source_endpoint.inst_id"),
         "Direction up needs the destination's region and instance ID; down needs the source's.",
         text_zh="方向为up时须填写目标库的区域和实例ID；方向为down时须填写源库的。"),
    Rule("cross_field.dr_standby_readonly", ("is_target_readonly",),
         "DR with direction up (this cloud is the standby) needs Destination read-only = true.",
         text_zh="灾备场景方向为up（本云为备）时，目标库只读须为true。"),
    Rule("cross_field.readonly_scope", ("is_target_readonly",),
         "Destination read-only applies only to a MySQL destination with direction up.",
         text_zh="目标库只读仅适用于目标为MySQL且方向为up的任务。"),
    Rule("cross_field.az_mysql_only", ("master_az", "slave_az"),
         "Primary/standby task AZs are supported for MySQL engines only (" + ", ".join(AZ_ENGINES) + ").",
         text_zh="主/备任务可用区仅支持MySQL类引擎。"),
    Rule("cross_field.az_pair", ("master_az", "slave_az"),
         "Primary and standby task AZs take effect only together.", severity="warning",
         text_zh="主、备任务可用区须同时填写才生效。"),
    Rule("cross_field.ssl_checksum", ("source_endpoint.ssl_cert_check_sum",),
         "SSL to the source needs the certificate checksum.",
         text_zh="源库启用SSL时须填写证书校验值。"),
    Rule("cross_field.ssl_password_p12",
         ("source_endpoint.ssl_cert_name", "target_endpoint.ssl_cert_name"),
         "An SSL certificate password goes with a .p12 certificate name.",
         text_zh="填写SSL证书密码时，证书名称须为.p12文件。"),
    Rule("cross_field.cluster_mode_mongodb",
         ("source_endpoint.cluster_mode", "target_endpoint.cluster_mode"),
         "Cluster mode applies to MongoDB endpoints only.",
         text_zh="集群模式仅适用于MongoDB数据库。"),
    Rule("cross_field.mongodb_cluster_nodes", ("node_num",),
         "A MongoDB cluster source (cluster mode set) needs Nodes / shards.",
         text_zh="源库为MongoDB集群（填写了集群模式）时须填写节点数。"),
    Rule("cross_field.objects_depth", ("objects",),
         "Objects entries must fit the engine: database or database.table (MongoDB database.collection); "
         "PostgreSQL database, database.schema or database.schema.table.",
         text_zh="迁移对象须符合引擎：库或库.表（MongoDB为库.集合）；PostgreSQL为库、库.模式或库.模式.表。"),
    Rule("cross_field.objects_dr", ("objects",),
         "Disaster recovery replicates the whole instance: leave Objects to replicate blank.",
         text_zh="灾备任务复制整个实例：迁移对象须留空。"),
    Rule("connection_incomplete", tuple(f"{side}.{a}" for side in ENDPOINTS for a in CONNECTION_FIELDS),
         "An endpoint without IP address, user or password is still created, but its connection test "
         "(bulkimport prepare) cannot run until they are filled in.", severity="warning",
         text_zh="缺少IP地址、用户名或密码的数据库仍会创建任务，但在补全之前无法进行连接测试（bulkimport prepare）。"),
    Rule("duplicate_name", ("name",), "Task names must be unique in the workbook (case-insensitive).",
         text_zh="任务名称在工作簿中不能重复（不区分大小写）。"),
)
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


@dataclass(frozen=True)
class RequiredWhen:
    """A cell that a cross-field rule makes mandatory once other cells of its row hold given
    values: the part of a rule a spreadsheet can show while the DBA types (the template
    highlights the cell while it is blank, or while it does not hold `value`).

    `schema.py` checks the whole rule (`rule` is its code); a test holds each entry to it.
    """

    rule: str
    #: (column key, value) pairs that all hold: then `key` is needed.
    when: tuple[tuple[str, str], ...]
    key: str
    #: The value the cell must then hold; None: any value.
    value: str | None = None


#: Which side of the task is the cloud instance for each direction (its region and
#: instance ID are then mandatory), from the API page's region / inst_id rows.
CLOUD_SIDE: dict[str, str] = {"up": "target_endpoint", "down": "source_endpoint"}

#: Cells that become mandatory while typing, one entry per (condition, cell).
REQUIRED_WHEN: tuple[RequiredWhen, ...] = (
    *(RequiredWhen("cross_field.cloud_side_instance", (("job_direction", direction),), f"{side}.{attribute}")
      for direction, side in CLOUD_SIDE.items() for attribute in ("region", "inst_id")),
    RequiredWhen("cross_field.eip_bind", (("net_type", "eip"),), "bind_eip", "true"),
    RequiredWhen("cross_field.dr_multi_write", (("db_use_type", "cloudDataGuard"),), "multi_write"),
    RequiredWhen("cross_field.dr_standby_readonly", (("db_use_type", "cloudDataGuard"), ("job_direction", "up")),
                 "is_target_readonly", "true"),
    RequiredWhen("cross_field.ssl_checksum", (("source_endpoint.ssl_link", "true"),),
                 "source_endpoint.ssl_cert_check_sum"),
)


@dataclass(frozen=True)
class ForbiddenWhen:
    """A value that a cross-field rule forbids once other cells of its row hold given values:
    the template highlights the cell while it holds it. `value` None: any value at all.

    `schema.py` checks the whole rule (`rule` is its code); a test holds each entry to it.
    """

    rule: str
    when: tuple[tuple[str, str], ...]
    key: str
    value: str | None = None


#: Values the template highlights while typing, one entry per (condition, cell).
FORBIDDEN_WHEN: tuple[ForbiddenWhen, ...] = (
    ForbiddenWhen("cross_field.dr_no_vpc", (("db_use_type", "cloudDataGuard"),), "net_type", "vpc"),
    ForbiddenWhen("cross_field.objects_dr", (("db_use_type", "cloudDataGuard"),), "objects"),
)


def template_columns() -> tuple[Field, ...]:
    """Columns in template order (a function so callers never mutate the catalogue)."""
    return CATALOGUE


def catalogue_hash() -> str:
    """SHA-256 of the whole catalogue and rule list, language-independent.

    The template stores it in `_meta`, and the reader compares it with the current one, so a
    workbook made from a different catalogue gets `stale_template` even when someone forgot
    to bump `TEMPLATE_VERSION`.
    """
    payload = {
        "template_version": TEMPLATE_VERSION,
        "fields": [asdict(f) for f in template_columns()],
        "rules": [asdict(r) for r in RULES],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
