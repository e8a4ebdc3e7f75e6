"""Every setting ecs-renewal reads, declared once: the validator, ``ENVIRONMENT_VARIABLES``, the CLI flags
and the README's configuration table (``python -m ecs_renewal.settings --markdown``) are derived from it.

A row says: the name (the event key when ``event`` is true, and the :class:`Settings` attribute where there
is one), the environment variable it falls back on, how an event value is checked and how the
variable's string is parsed, the default, which jobs read it, its CLI flag and what it means.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..tiers import DEFAULT_TIERS, tiers_from_text
from . import parse as p
from . import values as v
from .parse import TagMatcher

JOBS = ("scan-expiring", "renew-batch", "audit-autorenew")
SCAN, RENEW, AUDIT = JOBS
ALL = frozenset(JOBS)
RENEW_AND_AUDIT = frozenset((RENEW, AUDIT))


class Flag(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """The command-line flag for an event key: ``--days N``; ``switch`` is --x/--no-x, ``append`` repeats."""

    name: str
    help: str
    metavar: str | None = None
    style: str = "value"  # "value" | "switch" | "append"
    type: Callable[[str], Any] | None = None
    choices: tuple[Any, ...] | None = None


class Setting(NamedTuple):  # one row of the table: immutable, and cheap to define at every cold start
    """One setting, declared once (see the module's docstring)."""

    name: str
    kind: str  # the type, as the README shows it
    help: str
    env: str | None = None
    event: bool = False  # an event key of that name overrides the environment
    check: p.Check | None = None  # an event value (or an explicit one) → the clean value
    parse: p.EnvParse | None = None  # the environment variable's string → the clean value
    default: Any = None
    default_text: str | None = None  # how the README shows the default, when repr() would not do
    jobs: frozenset[str] = ALL
    flag: Flag | None = None
    blank_is_value: bool = False  # VAR="" is a value (turns the default off), not "unset"

    @property
    def shown_default(self) -> str:
        if self.default_text is not None:
            return self.default_text
        if isinstance(self.default, bool):
            return str(self.default).lower()
        return "—" if self.default is None else str(self.default)


_regions = p.id_list(v.REGION_RE, "region id", v.MAX_REGIONS)
_window_days = p.int_in(1, 365)
_period = p.int_in(1, 60)
_max_instances = p.int_in(1, 10_000)
_duration = p.one_of(v.AUTO_RENEW_DURATIONS)
_concurrency = p.int_in(1, 64)


def _event(name: str, env: str | None, check: p.Check, parse: p.EnvParse | None = None, **rest: Any) -> Setting:
    return Setting(name, event=True, env=env, check=check, parse=parse, **rest)


def _text(name: str, kind: str, help: str, *, env: str, **rest: Any) -> Setting:
    """A variable read as it is (a URL, a name, a path, a secret): no check beyond being set."""
    return Setting(name, kind, help, env=env, parse=p.env_as_is, **rest)


def _fc(env: str, help: str) -> Setting:
    """Set by Function Compute itself (or by hand for ``invoke``); read by ``gateway/fc.py``."""
    return _text(env.lower(), "string", help, env=env, default_text="set by Function Compute")


# --- event keys (each also an environment default where one makes sense), in the contract's order -------
EVENT_SETTINGS = (
    _event("regions", "REGIONS", _regions, p.env_list(_regions), kind="list of region ids (env: comma-separated)",
           help="where to work", default_text="required",
           flag=Flag("--region", "a region id (repeatable, or comma-separated)", "REGION", "append")),
    _event("window_days", "WINDOW_DAYS", _window_days, p.env_int(_window_days), kind="int 1..365", default=7,
           help="window = [now, now + days], UTC, minute precision", jobs=frozenset((SCAN, RENEW)),
           flag=Flag("--days", "the window: now .. now + N days", "N", type=int)),
    _event("expired_start", None, p.minute, kind="`yyyy-MM-ddTHH:mmZ`", jobs=frozenset((SCAN, RENEW)),
           help="an explicit window start instead (give both ends or neither)",
           flag=Flag("--expired-start", "explicit window start (UTC)", "yyyy-MM-ddTHH:mmZ")),
    _event("expired_end", None, p.minute, kind="`yyyy-MM-ddTHH:mmZ`", jobs=frozenset((SCAN, RENEW)),
           help="an explicit window end instead (give both ends or neither)",
           flag=Flag("--expired-end", "explicit window end (UTC)", "yyyy-MM-ddTHH:mmZ")),
    _event("dry_run", "DRY_RUN", p.boolean, p.env_bool, kind="bool", default=True, default_text="**true**",
           help="no call that changes anything or costs money",
           flag=Flag("--dry-run", "change nothing, pay nothing", style="switch")),
    _event("instance_ids", None, p.id_list(v.INSTANCE_ID_RE, "instance id", v.MAX_INSTANCE_IDS),
           kind="list of ids", help="only these instances (looked up in every region)", jobs=RENEW_AND_AUDIT,
           flag=Flag("--instance-id", "only this instance (repeatable), looked up in every region", "ID",
                     "append")),
    _event("period", "RENEW_PERIOD", _period, p.env_int(_period), kind="int", default=1, jobs=frozenset((RENEW,)),
           help="renewal length: Month 1–9, 12, 24, 36, 48, 60; Week 1–4",
           flag=Flag("--period", "renewal length", type=int)),
    _event("period_unit", "RENEW_PERIOD_UNIT", p.one_of(tuple(v.RENEW_PERIODS)), p.env_text(lambda text: text),
           kind="`Month` / `Week`", default="Month", help="the unit of `period`", jobs=frozenset((RENEW,)),
           flag=Flag("--period-unit", "the unit of --period", choices=tuple(v.RENEW_PERIODS))),
    _event("max_instances", "MAX_RENEWALS", _max_instances, p.env_int(_max_instances), kind="int 1..10000",
           default=50, help="safety cap: more candidates renews nothing", jobs=frozenset((RENEW,)),
           flag=Flag("--max-instances", "safety cap: more candidates than N renews nothing", "N", type=int)),
    _event("expected_auto_renew", "EXPECTED_AUTO_RENEW", p.boolean, p.env_bool, kind="bool", default=True,
           help="audit: the desired auto-renew setting", jobs=frozenset((AUDIT,)),
           flag=Flag("--expected-auto-renew", "the desired setting", style="switch")),
    _event("duration", "AUTO_RENEW_DURATION", _duration, p.env_int(_duration), kind="1, 2, 3, 6, 12", default=1,
           help="audit: desired auto-renew months", jobs=frozenset((AUDIT,)),
           flag=Flag("--duration", "desired auto-renew months", type=int, choices=v.AUTO_RENEW_DURATIONS)),
    _event("fix", "AUTO_RENEW_FIX", p.boolean, p.env_bool, kind="bool", default=False, jobs=frozenset((AUDIT,)),
           help="audit: also correct drift (not in a dry run)",
           flag=Flag("--fix", "also correct the drift, unless a dry run", style="switch")),
    _event("max_cost", "MAX_COST", p.money, p.env_money, kind="number ≥ 0", default_text="none",
           jobs=frozenset((RENEW,)), help="a budget in the account's currency; an estimate over it, or any "
           "unknown price, renews **nothing**"),
    _event("force", None, p.boolean, kind="bool", default=False, jobs=frozenset((RENEW,)),
           help="renew even what the renewal ledger says was renewed already (logged and alerted; the "
           "ClientToken still applies)",
           flag=Flag("--force", "renew again what the ledger says was already renewed", style="switch")),
    _event("accounts", None, p.id_list(v.ACCOUNT_ID_RE, "account id (digits, as a string)", v.MAX_ACCOUNT_IDS),
           kind="list of account ids (strings)", help="only these of the configured `ACCOUNTS`"),
    _event("shard", None, v.shard, kind="object",
           help="set by a fan-out coordinator on the events it sends; a shard never fans out again"),
)

# --- environment only ------------------------------------------------------------------------------------
ENVIRONMENT_SETTINGS = (
    Setting("include_tag", "`key=value` or `key`", "renew-batch/audit only touch instances with this tag",
            env="RENEW_INCLUDE_TAG", parse=p.env_tag, default_text="all", jobs=RENEW_AND_AUDIT),
    Setting("exclude_tag", "`key=value` or `key`", "never touched; an empty value turns it off",
            env="RENEW_EXCLUDE_TAG", parse=p.env_tag, default=TagMatcher("renewal", "manual"),
            default_text="`renewal=manual`", jobs=RENEW_AND_AUDIT, blank_is_value=True),
    Setting("renew_auto_renewing", "bool", "`true`: renew-batch also renews instances whose auto-renew is on",
            env="RENEW_AUTO_RENEWING", parse=p.env_bool, default=False, default_text="false (skipped)",
            jobs=frozenset((RENEW,))),
    Setting("renew_failed_auto_renew", "bool", "`true`: renew-batch renews an instance whose auto-renew deduction "
            "failed (auto-renew on, inside its last 9 days after 08:00 UTC+8 of expiry − 9 days); off, it is "
            "flagged and left to the platform's daily retry (see [Never silent](#never-silent))",
            env="RENEW_FAILED_AUTO_RENEW", parse=p.env_bool, default=False, default_text="false (flagged, skipped)",
            jobs=frozenset((RENEW,))),
    Setting("funds_horizon_days", "int 0..60", "renew-batch reads the balance (BSS `QueryAccountBalance`) and "
            "refuses a plan that the balance plus credit cannot pay together with the auto-renew deductions due "
            "in this many days; 0 turns the forecast off", env="FUNDS_HORIZON_DAYS",
            parse=p.env_int(p.int_in(0, 60)), default=9, jobs=frozenset((RENEW,))),
    Setting("bss_endpoint", "base URL", "where the balance is read (BSS OpenAPI)", env="BSS_ENDPOINT",
            parse=p.env_url, default_text="`ECS_ENDPOINT` when set, else `https://business.aliyuncs.com` "
            "(`SITE=intl`: `https://business.ap-southeast-1.aliyuncs.com`)", jobs=frozenset((RENEW,))),
    Setting("all_clear", "bool", "a scan that finds nothing expiring still sends one line saying what it checked, "
            "so that silence itself means something is wrong", env="SCAN_ALL_CLEAR", parse=p.env_bool, default=True,
            jobs=frozenset((SCAN,))),
    Setting("ecs_endpoint", "base URL", "every ECS call goes here (e.g. `http://127.0.0.1:18080`)",
            env="ECS_ENDPOINT", parse=p.env_url, default_text="the region's public HTTPS endpoint"),
    Setting("sts_endpoint", "base URL", "every STS call goes here", env="STS_ENDPOINT", parse=p.env_url,
            default_text="the public HTTPS endpoint"),
    Setting("assume_role_arn", "`acs:ram::<account>:role/<name>`", "assume this role for ECS calls",
            env="ASSUME_ROLE_ARN", parse=p.env_pattern(
                r"^acs:ram::\d+:role/[A-Za-z0-9.@\-_/]+$", "must look like acs:ram::<account-id>:role/<role-name>")),
    Setting("site", "`china` / `intl`", "the Alibaba Cloud site the account is on: renewal terms differ (RenewInstance "
            "doc: `intl` allows Month 1–9 and 12 only, no Week); the run's period and every tag's terms are checked "
            "against it before any call", env="SITE", parse=p.env_text(p.one_of(v.SITES)), default="china",
            jobs=frozenset((SCAN, RENEW))),
    Setting("unified_expiry_day", "int 1..28", "the account's unified expiry day (统一到期日, set in the console; no "
            "API reads it): an instance tagged `renewal-day` renews (`ExpectedRenewDay`) only when its tag equals "
            "it; unset = the account has none, such instances are skipped with the reason", env="UNIFIED_EXPIRY_DAY",
            parse=p.env_int(p.int_in(*v.UNIFIED_DAYS)), default_text="none", jobs=frozenset((SCAN, RENEW))),
    Setting("tag_period", "tag key", "the per-instance tag that holds a renewal period", env="TAG_RENEWAL_PERIOD",
            parse=v.tag_key, default="renewal-period", jobs=frozenset((SCAN, RENEW))),
    Setting("tag_unit", "tag key", "the per-instance tag that holds the period's unit", env="TAG_RENEWAL_UNIT",
            parse=v.tag_key, default="renewal-unit", jobs=frozenset((SCAN, RENEW))),
    Setting("tag_renew_day", "tag key", "the per-instance tag that holds a unified expiry day (1–28)",
            env="TAG_RENEWAL_DAY", parse=v.tag_key, default="renewal-day", jobs=frozenset((SCAN, RENEW))),
    Setting("tag_owner", "tag key", "the per-instance tag that names whom to @-mention", env="TAG_OWNER",
            parse=v.tag_key, default="owner", jobs=frozenset((SCAN, RENEW))),
    Setting("alert_tiers", "comma-separated days", "reminder tiers", env="ALERT_TIERS", parse=tiers_from_text,
            default=DEFAULT_TIERS, default_text=",".join(map(str, DEFAULT_TIERS))),
    Setting("time_zone", "IANA zone name", "the zone expiry times are shown in", env="ALERT_TIMEZONE",
            parse=v.time_zone, default="Asia/Shanghai"),
    Setting("read_timeout", "int 1..900 (seconds)", "read timeout of every ECS call", env="ECS_READ_TIMEOUT",
            parse=p.env_int(p.int_in(1, 900)), default_text="the SDK's per-action table (10–19 s)"),
    Setting("function_timeout", "seconds 1..86400", "the run's time limit when Function Compute's context does "
            "not say (a local run); retries stop 15 s before it", env="FUNCTION_TIMEOUT_SECONDS",
            check=p.env_seconds(1, 86_400), parse=p.env_seconds(1, 86_400), default=900.0,
            default_text="the function's timeout, else 900"),
    Setting("max_qps", "a number, `Action=number` or `region:Action=number` pairs (`N/60` = per minute), or a mix",
            "calls per second per (region, API action) — ECS counts each on its own — kept on our side: set it to "
            "your Quota Center quota, e.g. `100,RenewInstance=1000/60,cn-hangzhou:RenewInstance=10` (see "
            "[Performance](#performance))", env="ECS_MAX_QPS", parse=v.max_qps, default=(None, ()),
            default_text="the documented quota per action (unverified): Describe* 100/s, RenewInstance and "
            "ModifyInstanceAutoRenewAttribute 1000/60 s, DescribeRenewalPrice 500/60 s, others 20/s"),
    Setting("region_concurrency", "int 1..64", "regions worked at once", env="REGION_CONCURRENCY",
            parse=p.env_int(_concurrency), default=16),
    Setting("renew_concurrency", "int 1..64", "renewals in flight per region", env="RENEW_CONCURRENCY",
            parse=p.env_int(_concurrency), default=8, jobs=frozenset((RENEW,))),
    Setting("shard_size", "int 0..10000", "account-regions per invocation before a run fans out (0 = never)",
            env="SHARD_SIZE", parse=v.shard_size, default=20),
    Setting("notify_state_dir", "folder", "where a scan remembers the reminders it sent today",
            env="NOTIFY_STATE_DIR", parse=p.env_text(lambda text: text), default_text="`/tmp/ecs-renewal`",
            jobs=frozenset((SCAN,))),
    _text("dingtalk_webhook", "URL", "the group robot's URL (with `access_token`); unset: no messages",
          env="DINGTALK_WEBHOOK"),
    _text("dingtalk_secret", "string", "the group robot's signing secret", env="DINGTALK_SECRET"),
    # Approval (approval/): renew-batch plans and asks the group; approve-renewal applies what was approved.
    Setting("approval", "`off` or `required`", "`required`: renew-batch only plans, stores the plan and sends an "
            "Approve/Reject card; `approve-renewal` applies it when approved", env="APPROVAL",
            parse=p.env_text(p.one_of(("off", "required"))), default="off", jobs=frozenset((RENEW,))),
    _text("approval_secret", "secret (16+ bytes)", "signs plans and approval links (HMAC); never a cloud "
          "credential", env="APPROVAL_SECRET", jobs=frozenset((RENEW,))),
    Setting("approval_ttl", "hours 1..168", "how long a plan (and its links) may be applied", env="APPROVAL_TTL",
            parse=p.env_int(p.int_in(1, 168)), default=12, jobs=frozenset((RENEW,))),
    _text("approval_url", "URL", "approve-renewal's HTTP trigger URL (the card's buttons link there)",
          env="APPROVAL_URL", jobs=frozenset((RENEW,))),
    _text("approval_bucket", "OSS bucket name", "where plans, run records, the expiry page and the reminder "
          "ledger are kept (created by you; ram/README.md)", env="APPROVAL_BUCKET",
          default_text="none: a folder (`APPROVAL_STORE_DIR`)"),
    _text("approval_store_dir", "folder", "the store when there is no bucket (command line, tests)",
          env="APPROVAL_STORE_DIR"),
    Setting("oss_endpoint", "base URL", "every OSS call goes here", env="OSS_ENDPOINT", parse=p.env_url,
            default_text="the functions' region's public endpoint"),
    _text("approvers", "comma-separated staff ids", "robot mode: whose `approve <plan id>` counts",
          env="APPROVERS", default_text="none: link mode", jobs=frozenset((RENEW,))),
    Setting("approvals_needed", "int 1..10", "robot mode: distinct approvers needed (2 = four eyes)",
            env="APPROVALS_NEEDED", parse=p.env_int(p.int_in(1, 10)), default=1, jobs=frozenset((RENEW,))),
    _text("dingtalk_app_secret", "secret", "robot mode: the enterprise-internal robot's AppSecret (checks "
          "DingTalk's callback signature)", env="DINGTALK_APP_SECRET",
          jobs=frozenset((RENEW,))),
    _text("accounts_json", "JSON `[{\"account_id\",\"role_arn\",\"name\"}]`", "target accounts (read by "
          "`accounts.py`)", env="ACCOUNTS", default_text="the function's own account"),
    _text("accounts_file", "path", "a JSON file of target accounts shipped with the code", env="ACCOUNTS_FILE"),
    _text("fc_endpoint", "base URL", "how the coordinator (and `invoke`) reaches Function Compute (see "
          "[Command line](#command-line))", env="FC_ENDPOINT",
          default_text="from the account and region"),
    _text("fc_api", "`fc3` or `fc2`", "the Function Compute API the coordinator (and `invoke`) calls: `fc3` "
          "for what `s.yaml` deploys, `fc2` only for functions deployed as FC 2.0 services", env="FC_API",
          default_text="`fc3`"),
    _text("fanout_api", "`fc3` or `fc2`", "the same, where a variable may not start with `FC_`",
          env="FANOUT_API"),
    _text("fc_service_name", "string", "fc2 only: the service the coordinator invokes", env="FC_SERVICE_NAME",
          default_text="`default`"),
    _text("fanout_service_name", "string", "the same, where a variable may not start with `FC_`",
          env="FANOUT_SERVICE_NAME"),
    _text("fc_qualifier", "string", "the version or alias the coordinator invokes", env="FC_QUALIFIER"),
    _fc("FC_FUNCTION_NAME", "the function a coordinator invokes once per shard (itself)"),
    _fc("FC_ACCOUNT_ID", "the account that owns the functions"),
    _fc("ALIBABA_CLOUD_ACCOUNT_ID", "the same, as some runtimes name it"),
    _fc("FC_REGION", "the functions' region"),
    _fc("FC_DEPLOY_REGION", "the same, where set"),
    _fc("ALIBABA_CLOUD_REGION_ID", "the same, as some runtimes name it"),
    _text("access_key_id", "STS AccessKey id", "credentials for a run outside Function Compute (read by "
          "`credentials.py`; STS only)", env="ALIBABA_CLOUD_ACCESS_KEY_ID",
          default_text="the invocation's role"),
    _text("access_key_secret", "secret", "the same set's secret", env="ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    _text("security_token", "secret", "the same set's security token", env="ALIBABA_CLOUD_SECURITY_TOKEN"),
    _text("cli_profile", "name", "the command line only: the aliyun CLI profile (`~/.aliyun/config.json`) to "
          "take credentials from (see [Command line](#command-line))", env="ALIBABA_CLOUD_PROFILE",
          default_text="`--profile`, else the config's current profile"),
    _text("sdk_access_key_id", "—", "a static key the SDK would pick up on its own: refused when set",
          env="ALIYUN_ACCESS_KEY_ID"),
    _text("sdk_access_key_secret", "—", "the same key's secret: refused when set", env="ALIYUN_ACCESS_KEY_SECRET"),
)

SETTINGS = EVENT_SETTINGS + ENVIRONMENT_SETTINGS
BY_NAME = {setting.name: setting for setting in SETTINGS}
BY_ENV = {setting.env: setting for setting in SETTINGS if setting.env}
EVENT_KEYS = tuple(setting.name for setting in EVENT_SETTINGS)
# Which keys each job reads; others are accepted (one payload may serve several functions) but reported.
JOB_KEYS = {job: frozenset(s.name for s in EVENT_SETTINGS if job in s.jobs) for job in JOBS}
# Every environment variable ecs-renewal reads (tests and the emulator's Function Compute clear them
# so that a host's settings never reach a run).
ENVIRONMENT_VARIABLES = tuple(BY_ENV)
