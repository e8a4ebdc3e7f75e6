"""BSS OpenAPI 2017-12-14 (product ``BssOpenApi``): ``QueryAccountBalance`` over the emulator's wallet.

Request class ``aliyunsdkbssopenapi.request.v20171214.QueryAccountBalanceRequest`` (aliyun-python-sdk-bssopenapi):
RPC, POST, no parameters, signed like every RPC API (signature v1). Real endpoints: ``business.aliyuncs.com``
(China site) and ``business.ap-southeast-1.aliyuncs.com`` (international site); the SDK's endpoint map sends
every region to one of the two. The API doc names the RAM action ``bss:DescribeAcccount`` (sic, three c's);
without it the answer is 400 ``NoPermission`` (with RAM enforced, as for ECS).

Answer (API doc example and the generated SDK's response model): ``Code`` "200", ``Message`` "success",
``Success`` true and ``Data`` whose amounts are STRINGS with two decimals:
  * ``AvailableCashAmount``: the cash balance (``emu.balance``);
  * ``CreditAmount``: the unused credit line (``emu.set_credit``);
  * ``MybankCreditAmount``: the MYbank credit line (reported only, never spent by the emulator);
  * ``AvailableAmount``: what renewals can draw = cash + unused credit (whether the real value includes
    the credit line is unverified: do not add ``CreditAmount`` to it again);
  * ``Currency``: CNY on the China site, USD on the international site; ``QuotaLimit`` "0.00".
"""

from __future__ import annotations

from collections.abc import Callable

from .billing import SITE_CURRENCY, spendable
from .context import RpcContext

BSS_VERSION = "2017-12-14"
BSS_PRODUCT = "BssOpenApi"
BSS_HOSTS = {"china": "business.aliyuncs.com", "intl": "business.ap-southeast-1.aliyuncs.com"}
# The RAM action each BSS API is authorised as (the API doc's "Authorization information" table), and the
# answer without it (the doc's error table: 400 NoPermission).
BSS_RAM_ACTIONS = {"QueryAccountBalance": "bss:DescribeAcccount"}
BSS_NO_PERMISSION_MESSAGE = "You are not authorized to perform this action."


def _amount(value: float) -> str:
    return f"{value:.2f}"


def query_account_balance(ctx: RpcContext) -> dict:
    with ctx.state.lock:
        account = ctx.state.account(ctx.account_id)
        wallet = account.wallet
        data = {
            "AvailableAmount": _amount(spendable(account.balance, wallet)),
            "AvailableCashAmount": _amount(account.balance),
            "CreditAmount": _amount(wallet.credit_available),
            "MybankCreditAmount": _amount(wallet.mybank_credit),
            "Currency": SITE_CURRENCY.get(ctx.state.site, "CNY"),
            "QuotaLimit": _amount(0.0),
        }
    return {"Code": "200", "Message": "success", "Success": True, "Data": data}


BSS_ACTIONS: dict[str, Callable[[RpcContext], dict]] = {"QueryAccountBalance": query_account_balance}
