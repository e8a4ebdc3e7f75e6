"""A local emulator of the Alibaba Cloud APIs this project uses: ECS, STS, a DingTalk robot, FC invoke.

The real SDK (aliyun-python-sdk-core 2.16.1 + -ecs + -sts) talks to it over plain HTTP on 127.0.0.1;
point ``request.set_endpoint(emu.url)`` (or ``ECS_ENDPOINT`` / ``STS_ENDPOINT``) at it. Stdlib only.

    from ecs_emulator import Emulator, FleetSpec
    with Emulator(fleet=FleetSpec(seed=1), renew_visibility_delay=0.3) as emu:
        creds = emu.function_credentials   # .access_key_id .access_key_secret .security_token .expiration
        ...                                 # call emu.url with the SDK; inspect emu.calls, emu.instance(id)

Standalone: ``python -m ecs_emulator --port 18080`` (prints export lines; ``GET /_emulator/state``).

Facts come from ``shared/reference/*.md``. The rule is: **stricter than the real cloud, never looser**.
Where the real behaviour is unverified, this is what the emulator does (all of it a choice):

Protocol and authentication (every RPC request, before anything else)
  * RPC on ``/`` by GET or POST; parameters from the query string plus a form-encoded body, all signed.
    A parameter sent twice -> 400 ``InvalidParameter.Duplicate``. Non-UTF-8 -> 400 ``InvalidParameter.Encoding``.
  * Missing AccessKeyId/Signature/SignatureMethod/SignatureVersion/SignatureNonce/Timestamp ->
    400 ``Missing<Name>`` (e.g. ``MissingSignature``). Same naming for other mandatory params
    (``MissingAction``, ``MissingVersion``, ``MissingRegionId``, ``MissingInstanceId``, ``MissingPeriod``,
    ``MissingRoleArn``...), except the codes the docs name (``MissingParameter.InstanceId``,
    ``Abs.MissingParamter.InstanceId``).
  * SignatureMethod other than HMAC-SHA1 -> 400 ``InvalidSignatureMethod``; SignatureVersion other than
    1.0 -> 400 ``InvalidSignatureVersion``; Timestamp not ``YYYY-MM-DDTHH:MM:SSZ`` -> 400
    ``InvalidTimeStamp.Format``; more than 15 min off (either way) -> 400 ``InvalidTimeStamp.Expired``.
  * Unknown AccessKeyId -> 404 ``InvalidAccessKeyId.NotFound``.
  * STS key without SecurityToken -> 400 ``InvalidSecurityToken.Malformed``; with another token -> 400
    ``InvalidSecurityToken.MismatchWithAccessKey``; expired -> 400 ``InvalidSecurityToken.Expired``.
    A static key sent WITH a SecurityToken -> 400 ``InvalidSecurityToken.MismatchWithAccessKey``.
  * Bad signature -> 400 ``SignatureDoesNotMatch``, message ends with ``:<server string-to-sign>`` so the
    SDK turns it into ``InvalidAccessKeySecret`` when only the secret was wrong.
  * Nonces are remembered 30 min (covers the +-15 min Timestamp window) across all keys; reuse -> 400
    ``SignatureNonceUsed``. Checked after the signature (a forged request cannot burn a nonce).
  * ``Format`` must be JSON (absent = XML, the real default) else 400 ``InvalidParameter.Format``.
  * Static (RAM user) keys are accepted for ECS as the real cloud does; the project must refuse them
    itself — ``CallRecord.had_security_token`` / ``role_arn`` show what it did.
  * Unknown Version -> 400 ``InvalidVersion``; unknown Action -> 404 ``InvalidAction.NotFound``;
    ECS RegionId not in the catalogue (28 real ids, ``ecs_emulator.regions``) -> 404 ``InvalidRegionId.NotFound``.
    STS ignores RegionId. Other paths -> 404 ``InvalidPath.NotFound``.
  * Order: region_down -> auth -> Format -> Action/Version -> RegionId -> throttle -> RAM -> fault rules -> action.

Accounts, keys, roles
  * One default account ``1234567890123456`` (balance 10,000,000 CNY). A role added in another account
    creates that account; its STS sessions see only that account's instances and balance.
  * Money (``billing.py``): per account a cash balance (``emu.balance``, ``set_balance(v, account)``), a
    credit line spent after the cash (``set_credit(limit, account)``, default 0) and a unified expiry day
    (``set_unified_expiry_day(day, account)``, default none). Every successful charge is a ``Charge``
    (instance, kind, terms, amount, currency, order id, time, ClientToken): ``emu.charges(account)``,
    ``emu.total_charged(account)`` (``"*"`` = every account), and ``charges``/``accounts`` in
    ``GET /_emulator/state``.
  * Site (``Emulator(site=...)``, ``emu.site``, ``--site``): ``china`` (default) or ``intl`` — renewal
    terms and currency (CNY / USD, prices x 0.14) follow it (RenewInstance doc, ``<props="intl">``).
  * Static key ids are ``LTAI-emu-<hex>`` (dashes on purpose); STS ids ``STS.<25 alnum>``; security
    tokens are ~1.2 KB of base64 (with ``+/=``).
  * Roles have ``max_session_duration`` (default 3600 s, like RAM's default; up to 43200). AssumeRole
    DurationSeconds must be 900..that, and 900..3600 when the caller is itself an STS session.
  * ``function_credentials`` = a 6-hour STS session of the default role ``acs:ram::<account>:role/ecs-renewal``.

DescribeInstances
  * ``Filter.N`` only N = 1..4 and each key only in its conventional slot (1 CreationStartTime,
    2 CreationEndTime, 3 ExpiredStartTime, 4 ExpiredEndTime); anything else, a Key without Value, or a
    value not exactly ``yyyy-MM-ddTHH:mmZ`` (seconds rejected) -> 404 ``InvalidFilterKey.NotFound``.
  * Expiry filters compare against the VISIBLE ExpiredTime, inclusive at both ends, minute precision.
  * ``InstanceIds``: not a JSON array of strings -> 400 ``InvalidInstanceIds.Malformed``; > 100 -> 400
    ``InvalidParameter``. ``[]`` matches nothing.
  * ``Tag.N`` N 1..20 (else 400 ``InvalidTagCount``), AND semantics, Key alone matches any value, Value
    without Key -> 400 ``InvalidTag.Mismatch``; tag-filtered results capped at 1000. Untagged instances
    have NO ``Tags`` key at all in the answer.
  * Filters the emulator does not model (SecurityGroupId, VpcId, ...) -> 400 ``Emulator.UnsupportedParameter``.
  * Paging: PageNumber >= 1 (else 400 ``InvalidParameter.PageNumber``), PageSize 1..100 default 10 (else 400
    ``InvalidParameter.PageSize``). NextToken mode when ``NextToken`` or ``MaxResults`` is given (PageNumber/
    PageSize then ignored; MaxResults < 10 -> 10, > 100 -> 100). Tokens are opaque, bound to the query
    (same filters, region, account); unknown or foreign -> 400 ``InvalidParameter.NextToken``. ``NextToken``
    is "" on the last page; page mode also returns a token when more pages exist. In NextToken mode
    ``TotalCount`` is the size of the returned page (documented as meaningless). Order: CreationTime, then id.
  * ``DryRun=true`` -> 400 ``DryRunOperation`` (403 ``Forbidden.RAM`` without the permission).

RenewInstance
  * Period (RenewInstance doc / generated SDK docstring): china site Month 1-9,12,24,36,48,60 and Week 1-4;
    intl site Month 1-9,12 only. PeriodUnit Month (default)/Week (china only), else 400
    ``InvalidPeriodUnit.ValueNotSupported`` (Year too); bad Period -> 400 ``InvalidPeriod``; neither Period
    nor ExpectedRenewDay -> 400 ``InvalidPeriod.NotFound``. ExpectedRenewDay with Period/PeriodUnit -> 400
    ``InvalidExpectedRenewDay.Conflict``; outside 1..28 -> 400 ``InvalidExpectedRenewDay.ValueNotSupported``;
    not the account's unified expiry day (or none set, the default) -> 400 ``InvalidParam.ExpectedRenewDay``
    (the doc says "otherwise the call fails"; which code is unverified). Codes from the current error table.
    ExpectedRenewDay approximation: new expiry = current expiry + 1 calendar month, day set to that day;
    charged by the days it adds (days / 30 of a month).
  * New expiry = current TRUE expiry + calendar months (day clamped to month end) or weeks — also for an
    already expired instance. More than 5 years past now -> 400 ``InvalidPeriod.ExceededMaximumExpirationDate``.
  * Errors: unknown id or another region's id -> 404 ``InvalidInstanceId.NotFound``; PostPaid -> 403
    ``ChargeTypeViolation``; ``security`` lock -> 403 ``InstanceLockedForSecurity``; ``recycling``/``refunded``
    lock or RenewalStatus NotRenewal -> 403 ``IncorrectInstanceStatus``; cash + unused credit < price -> 403
    ``InvalidAccountStatus.NotEnoughBalance`` (documented for ECS order APIs such as ModifyInstanceSpec; for
    RenewInstance unverified; ``emu.insufficient_funds_error = (400, "Account.Arrearage", msg)`` plays
    another), nothing charged; ClientToken non-ASCII or > 64 -> 400
    ``InvalidClientToken.ValueNotSupported``.
  * Idempotency: tokens are remembered per account for ``client_token_ttl`` (6 h), only for SUCCESSFUL
    renewals. Same token + same (InstanceId, Period, PeriodUnit, ExpectedRenewDay) -> same OrderId,
    nothing renewed or charged again (``CallRecord.replayed``); different params -> 400
    ``IdempotenceParamNotMatch`` (knob: ``IdempotentParameterMismatch``). An expired token renews again.
    The token is checked before the instance (a replay answers even if the instance changed since).
  * Applying: true expiry moves at once, the price is charged (cash first, then credit) and recorded, a
    ``financial`` lock is cleared (a Stopped instance then runs again). DescribeInstances shows the new
    ExpiredTime only ``renew_visibility_delay`` seconds later (default 10 s, like the real ~10 s).
  * Charged = exactly DescribeRenewalPrice's quote for the same instance and terms (``emu.renewal_price``).

Prices (``pricing.py``; the model is a choice, real list prices vary)
  * Per INSTANCE (DescribeRenewalPrice prices one ResourceId with what is attached to it): instance type
    (``MONTHLY_PRICE_CNY``, fallback 300) + system disk 1.0/GiB + data disks 0.7/GiB + fixed bandwidth
    23/Mbps up to 5 Mbps, 80/Mbps above, per month; a paid Marketplace image has its own monthly price.
    Each instance's resources are seeded from its id (``seeded_resources``): instances of one type differ;
    ``add_instance(resources=Resources(...))`` and the fleet file (``SystemDiskGiB``, ``DataDisksGiB``,
    ``InternetMaxBandwidthOut``, ``ImageMonthlyPrice``) set them.
  * 12 months or more: 15 % off the ECS part (one Rule, "Receive a 15% discount on a 1-year
    subscription", as in the doc's example); a week = 30 % of a month; no discount on the image.
  * The image is quoted in ``PriceInfo.RelatedPrice.MarketplaceImagePrice``, NOT in ``PriceInfo.Price``;
    RenewInstance charges both (a reader of ``Price.TradePrice`` alone under-estimates: stricter).

DescribeRenewalPrice
  * Period Month 1-9 / Year 1-3 (intl: Year 1 only, a choice) else 400 ``InvalidPeriod``; PriceUnit Month/Year
    (Week or other -> 400 ``InvalidPriceUnit.ValueNotSupported``); ResourceType other than instance -> 400
    ``InvalidResourceType.ValueNotSupported``; unknown id -> 404 ``InvalidInstanceId.NotFound`` (error
    table); PostPaid -> 403 ``ChargeTypeViolation``; ExpectedRenewDay rules as RenewInstance (conflict with
    PriceUnit, range, the account's unified day). Answer: ``Price`` {Original, Discount, Trade, Currency,
    DetailInfos.DetailInfo[] per resource}, ``Rules``, ``RelatedPrice.MarketplaceImagePrice`` when paid.

Tags (``tags.py``): TagResources / UntagResources / ListTagResources, ResourceType=instance
  * ResourceType missing -> 404 ``MissingParameter.ResourceType``; unknown -> 404 ``InvalidResourceType.NotFound``;
    a real non-instance type -> 400 ``Emulator.UnsupportedParameter``. ResourceId.N N 1..50 (else 400
    ``NumberExceed.ResourceIds``); Tag.N / TagKey.N N 1..20 (else 400 ``NumberExceed.Tags``). Any unknown
    id (or another region's) -> 404 ``InvalidResourceId.NotFound`` and nothing changes.
  * TagResources: no Tag.N -> 404 ``MissingParameter.Tags``; Value without Key -> 400 ``InvalidTag.Mismatch``;
    a key twice -> 400 ``Duplicate.TagKey``; key empty, > 128, ``aliyun``/``acs:`` prefix or ``http(s)://``
    -> 400 ``InvalidTagKey.Malformed``; value > 128, ``acs:`` prefix or ``http(s)://`` -> 400
    ``InvalidTagValue.Malformed`` (empty or absent value = ""). More than 20 tags on a resource after the
    call (an existing key counts once) -> 400 ``OperationDenied.QuotaExceed`` for the whole call.
  * UntagResources: TagKey.N, or All=true (only without TagKey.N); neither -> 404 ``MissingParameter.Tags``
    (unverified). Unknown keys are ignored.
  * ListTagResources: ResourceId.N and/or Tag.N (AND; a Key alone matches any value; Value alone -> 400
    ``InvalidParameter.TagValue``); neither -> 404 ``MissingParameter.Tags`` (unverified); TagFilter.N -> 400
    ``Emulator.UnsupportedParameter``. One row per (resource, tag): ``TagResources.TagResource[]`` {ResourceId,
    ResourceType, TagKey, TagValue}; ``LIST_PAGE_SIZE`` (50, unverified) rows a page; ``NextToken`` "" on the
    last page, bound to the query (else 400 ``InvalidParameter.NextToken``).
  * Tag changes are the instance's tags: DescribeInstances shows and filters them at once.

BSS OpenAPI 2017-12-14 (``bss.py``): ``QueryAccountBalance``
  * Product ``BssOpenApi``, RPC POST, no parameters, signature v1 like ECS (request class of
    aliyun-python-sdk-bssopenapi); RegionId ignored; error HostId ``business.aliyuncs.com`` (intl
    ``business.ap-southeast-1.aliyuncs.com``). RAM action in the API doc: ``bss:DescribeAcccount`` (sic);
    without it (RAM enforced) -> 400 ``NoPermission`` (the doc's error table).
  * ``{"Code": "200", "Message": "success", "Success": true, "Data": {...}}``; amounts are strings with two
    decimals (doc example): AvailableCashAmount = cash, CreditAmount = unused credit line,
    MybankCreditAmount, AvailableAmount = cash + unused credit (unverified whether the real one includes
    credit: never add CreditAmount to it again), Currency CNY/USD by site, QuotaLimit "0.00".

Auto-renew deductions (``autorenew.py``)
  * The platform charges an AutoRenewal instance at 08:00 (UTC+8) nine days before expiry and retries daily
    (ModifyInstanceAutoRenewAttribute doc). A deduction that fails (cash + credit short) keeps the expiry.
  * The schedule runs only on ``emu.run_auto_renew_deductions(now)``: success = a ``Charge`` of kind
    ``auto_renew`` and the expiry extended by Duration; failure = kept in ``auto_renew_failures``
    (``AutoRenewFailures`` in the state view). An AutoRenewal instance that a fleet, a fleet file or
    ``add_instance`` places inside its last nine days (past the hour) gets the failed attempts recorded: in
    the real world only a failed deduction leaves it there. ``FleetSpec(failed_auto_renew=N)`` /
    ``--failed-auto-renew N`` adds N such instances per region (1-8 days left) without changing the rest.

Describe/ModifyInstanceAutoRenewAttribute
  * Comma lists are not trimmed (``"i-a, i-b"`` fails), duplicates collapse, > 100 -> 403
    ``InvalidParameter.ToManyInstanceIds``; unknown id -> 403 ``InvalidParameter.InvalidInstanceId``; any
    PostPaid id -> 403 ``ChargeTypeViolation`` for the whole call, nothing changed.
  * Describe: PageSize default 10 (a 100-id list returns 10 unless PageSize is set), max 100.
    RenewalStatus alone lists the region's PrePaid instances with that status.
  * Modify: AutoRenew true/false case-insensitive (else 403 ``InvalidParameter.AutoRenew``), defaults to
    false; RenewalStatus wins over AutoRenew; enabling without Duration -> 403 ``InvalidParameter.Duration``;
    Duration Month 1,2,3,6,12,24,36,48,60 / Year 1-5 / Week 1-4 (else 403 ``InvalidParameter.Duration``).
    Normal/NotRenewal set Duration 0.

STS
  * RoleArn malformed -> 400 ``InvalidParameter.RoleArn``; unknown role -> 404 ``EntityNotExist.Role``;
    RoleSessionName -> 400 ``InvalidParameter.RoleSessionName``; DurationSeconds -> 400
    ``InvalidParameter.DurationSeconds``; Policy not a JSON object <= 2048 chars -> 400
    ``InvalidParameter.PolicyGrammar``; a session given a Policy may do only what it AND the role allow (rule 3);
    ExternalId -> 400 ``InvalidParameter.ExternalId``.
  * ``GetCallerIdentity`` is served too.

Function Compute (``emu.fc``, details in ``fc.py``)
  * FC 3.0: ``POST /2023-03-30/functions/<function>/invocations[?qualifier=]`` (what alibabacloud_fc20230330
    sends), its ACS3-HMAC-SHA256 signature verified exactly (``acs3.py``: canonical request, signed-header
    coverage, body hash, ``x-acs-date`` skew, nonce replay, ``x-acs-security-token``); errors
    ``{"Code","Message","RequestId"}``; ``x-fc-async-task-id`` refused with 409 when repeated and
    ``emu.fc.async_task`` is on (s.yaml's ``asyncTask``).
  * FC 2.0: ``POST /2016-08-15/services/<service>[.<qualifier>]/functions/<function>/invocations`` (what
    aliyun-fc2 speaks), signed exactly as aliyun-fc2 signs; FC's ``{"ErrorCode","ErrorMessage"}`` shape.
  * Both: 403 ``SignatureNotMatch`` / ``InvalidAccessKeyID`` / ``InvalidSecurityToken`` (missing, another
    key's, expired) / ``RequestTimeTooSkewed``.
  * Runs the real handler (``functions/<function>/index.py``) in-process with a context shaped like its runtime's
    (``emu.fc.runtime``, per function from s.yaml: python3.12 by default, no ``context.credentials``;
    ``python3.10`` puts them back) and the function's STS credentials in its environment
    (``ALIBABA_CLOUD_*``, read afresh per run): Sync -> 200 and the result (a raise -> ``x-fc-error-type``); Async
    -> 202 at once, run in the background under FC's async rules (``fc_async.py``): killed at its
    ``timeout``, replayed on failure up to ``maxAsyncRetryAttempts`` (3) no earlier than the timeout after
    the previous attempt started, dropped past ``maxAsyncEventAgeInSeconds`` (86400), then recorded in
    ``emu.fc.destinations`` (onFailure). ``emu.fc.configure(...)`` / ``configure_from_s_yaml(...)`` per
    function; ``emu.fc.time_scale`` speeds FC's timers up; ``emu.fc.replay_same_request_id`` (off).
    ``emu.fc.invocations`` records every attempt; ``emu.fc.wait_idle()``. ``emu.fc.environment`` is the
    functions' environment (the host's project variables never leak in); handlers run one at a time.

The cloud's rules (issue 12): each a knob of ``Emulator(...)`` whose DEFAULT is the documented behaviour
  1. Throttling (``throttle.py``, ``emu.throttle``): quotas per (account = ParentUid, region, action) —
     ECS "API throttling" doc (help.aliyun.com/zh/ecs/developer-reference/api-throttling) and Quota Center
     (``N/1(s)``, ``N/60(s)``, dimension "regionId, API, ParentUid"). Default quotas per action in
     ``throttle.DEFAULT_QUOTAS`` (all UNVERIFIED), counted over a sliding window; beyond it -> 400
     ``Throttling.User`` and the API stays blocked in that region until the next calendar minute ("throttled
     in minute T, callable in T+1"). Knobs: ``throttling``, ``quotas``, ``throttle_block_until_next_minute``,
     ``throttle_code``; ``emu.throttle.scale``/``clock``; ``emu.faults.rate_limit`` = one quota for all.
     Counted: ``emu.throttle.throttled``, ``faults.injected["rate_limit"]``, ``CallRecord.fault == "throttled"``.
  3. RAM (``permissions.py``, ``emu.permissions``): a credential may do what its role's policy documents
     allow (Action with ``*``, Allow/Deny, Deny wins; Resource and Condition not evaluated). Default role =
     ram/function-role-policy.json + function-role-assume-policy.json + function-role-fanout-policy.json +
     billing-read-policy.json (BSS);
     ``add_role()`` roles = ram/target-account-role-policy.json; the operator's static key = full access;
     an AssumeRole ``Policy`` narrows that session (role AND policy).
     Not permitted: DescribeInstances -> an EMPTY list (DescribeInstances doc), with DryRun -> 403
     ``Forbidden.RAM`` (permitted: 400 ``DryRunOperation``); other ECS actions -> 403 ``Forbidden.RAM``;
     AssumeRole -> 403 ``NoPermission``. Knobs: ``ram``, ``function_role_policy``; ``add_role(policy=)``,
     ``set_policy()``, ``issue_credentials_with_policy()``.
  4. DingTalk: a body over 20,000 bytes -> errcode 460101 (``dingtalk_max_body_bytes``, below).
  7. ClientToken memory: ``client_token_ttl`` (default 6 h; ECS does not document it; None = forever).
  8. Token reused with other params: ``idempotence_mismatch_code`` = ``IdempotenceParamNotMatch`` (RenewInstance
     table, default) or ``IdempotentParameterMismatch`` (idempotence page).
  ``python -m ecs_emulator``: ``--quota A=N[/60]``, ``--no-throttling``, ``--no-minute-block``,
  ``--throttle-code``, ``--no-ram``, ``--client-token-ttl``, ``--idempotence-mismatch-code``,
  ``--dingtalk-max-body-bytes``.

Faults (``emu.faults``)
  * ``latency`` seconds before every RPC; ``rate_limit`` = one quota of that many calls/second for every
    action (replaces the quota table; the minute block still applies) -> 400 ``Throttling.User``.
  * ``add(action, kind, times, region, instance_id, status, code, delay, *, after, probability, then)``:
    kinds error / apply_then_error / apply_then_drop / delay / throttle / expire_token / pass. Default
    status/code: 503 ``ServiceUnavailable`` (error, apply_then_error), 400 ``Throttling`` (throttle), 400
    ``InvalidSecurityToken.Expired`` (expire_token). The first live rule that strikes is consumed per call.
    ``after=n`` lets the first n matching calls through (hit page 3, the 5th renewal ...); ``probability``
    strikes each matching call with that chance (a storm; ``faults.seed(n)`` makes it repeatable);
    ``then=callback`` runs when the rule strikes — kind ``pass`` injects nothing else (e.g. expire the
    caller's credentials for real, or take a region down, at an exact point of a run). Rules apply after
    authentication.
  * ``faults.injected``: a Counter of the faults actually injected, by kind (``region_down`` and
    ``rate_limit`` included); ``clear()`` never resets it.
  * ``region_down(region)``: ECS calls with that RegionId get their connection closed without an answer
    (the SDK raises ``SDK.HttpError``), before authentication. STS is unaffected.

DingTalk robot (``POST /robot/send``), HTTP 200 always
  * Wrong/missing access_token -> 300001 ``token is not exist``; missing/old (> 1 h) timestamp -> 310000
    ``invalid timestamp``; bad sign -> 310000 ``sign not match`` (the robot always has signing on).
  * Rate limit ``rate_limit_per_minute`` (20; None = off) over a sliding minute of authenticated sends;
    exceeding it -> 130101 and a ``block_seconds`` (600) block.
  * A request body over ``max_body_bytes`` (20,000; the serialized JSON, mentions included) -> 460101
    ``message too long, exceed 20000 bytes`` (checked after the rate limit).
  * ``fail_next(n, errcode=-1, errmsg="system busy")`` applies after auth and the rate limit.
  * Content-Type not application/json -> 43004; body not a JSON object, unknown msgtype, or missing
    required fields (text.content; markdown.title+text; link.title+text+messageUrl; actionCard.title+text+
    singleURL|btns; feedCard.links) -> 40035.

Fleet file (``Emulator.from_fleet_file`` / ``emu.save_fleet``)::

    {"format": "ecs-emulator-fleet/1", "account_id": "1234567890123456", "saved_at": "...",
     "instances": [{"InstanceId": "i-bp1...", "InstanceName": "...", "RegionId": "cn-hangzhou",
                    "ZoneId": "cn-hangzhou-h", "InstanceType": "ecs.g7.large",
                    "InstanceChargeType": "PrePaid", "ExpiredTime": "2025-01-01T16:00Z",
                    "CreationTime": "2024-01-01T16:00Z", "Status": "Running",
                    "Tags": {"env": "prod"}, "OperationLocks": ["financial"],
                    "AutoRenewEnabled": false, "Duration": 0, "PeriodUnit": "Month",
                    "RenewalStatus": "Normal", "AccountId": "1234567890123456"}]}

  ExpiredTime is the TRUE expiry (renewal history is not saved). A bare JSON list of instances loads too.
"""

from .calls import CallRecord
from .clock import format_minute, format_second
from .dingtalk import DingTalkRobot, dingtalk_sign
from .emulator import Emulator
from .errors import ApiError
from .faults import FaultRule, Faults
from .fleet import FleetSpec
from .keys import Credentials, StaticKey
from .model import POSTPAID_EXPIRY, InstanceRecord, RenewalRecord
from .permissions import Permissions, Policy
from .regions import REGIONS
from .signing import signed_query, string_to_sign
from .throttle import DEFAULT_QUOTAS, Quota, Throttle

__all__ = [
    "DEFAULT_QUOTAS",
    "POSTPAID_EXPIRY",
    "REGIONS",
    "ApiError",
    "CallRecord",
    "Credentials",
    "DingTalkRobot",
    "Emulator",
    "FaultRule",
    "Faults",
    "FleetSpec",
    "InstanceRecord",
    "Permissions",
    "Policy",
    "Quota",
    "RenewalRecord",
    "StaticKey",
    "Throttle",
    "dingtalk_sign",
    "format_minute",
    "format_second",
    "signed_query",
    "string_to_sign",
]
