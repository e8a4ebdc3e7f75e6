"""Credentials: context first, then the environment; STS only; secrets never printed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ecs_renewal.credentials import require_sts, resolve_base_credentials
from ecs_renewal.errors import CredentialsError


def context(key_id="STS.ctx", secret="ctx-secret-value", token="ctx-token-value"):
    return SimpleNamespace(credentials=SimpleNamespace(
        access_key_id=key_id, access_key_secret=secret, security_token=token))


ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.env",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret-value",
    "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token-value",
}


def test_context_wins_over_environment():
    creds = resolve_base_credentials(context(), ENV)
    assert (creds.access_key_id, creds.source, creds.is_sts) == ("STS.ctx", "context", True)


def test_environment_when_context_has_no_credentials():
    # python3.12 on FC 3.0: no context.credentials at all; FC 2.0 without a role: empty fields.
    for ctx in (SimpleNamespace(request_id="r"), context(key_id="", secret="", token="")):
        creds = resolve_base_credentials(ctx, ENV)
        assert (creds.access_key_id, creds.source) == ("STS.env", "environment")


def test_nothing_at_all_says_how_to_fix_it():
    with pytest.raises(CredentialsError, match="role"):
        resolve_base_credentials(None, {})


def test_static_key_is_refused_for_ecs_unless_it_only_assumes_a_role():
    static = resolve_base_credentials(None, {**ENV, "ALIBABA_CLOUD_SECURITY_TOKEN": ""})
    assert not static.is_sts
    with pytest.raises(CredentialsError, match="ASSUME_ROLE_ARN"):
        require_sts(static, assume_role_arn=None)
    require_sts(static, assume_role_arn="acs:ram::1234567890123456:role/ecs-renewal")


def test_sdk_static_key_variables_are_refused_because_they_would_drop_the_token():
    with pytest.raises(CredentialsError, match="ALIYUN_ACCESS_KEY_ID"):
        resolve_base_credentials(context(), {"ALIYUN_ACCESS_KEY_ID": "x", "ALIYUN_ACCESS_KEY_SECRET": "y"})


def test_repr_never_shows_secret_or_token():
    creds = resolve_base_credentials(context(key_id="STS.abcdefghijklmnop"), {})
    text = repr(creds) + str(creds)
    assert "ctx-secret-value" not in text and "ctx-token-value" not in text
    assert "STS.abcdefghijklmnop" not in text  # the id itself is shown only partly
