"""The one place a setting's value is chosen: explicit (the event) → the environment → the default.

(AWS Lambda Powertools' ``resolve_env_var_choice``, with the validation and the error that names the key.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidEventError, InvalidSettingError
from .table import BY_ENV, EVENT_KEYS, Setting

_ABSENT: Any = object()


def resolve(
    setting: Setting, environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None,
    *, explicit: Any = _ABSENT,
) -> Any:
    """The setting's value: an event override, else an explicit value, else its variable, else its default.

    An invalid event value raises :class:`InvalidEventError` naming the key; an invalid explicit or
    environment value raises :class:`InvalidSettingError` naming the variable.
    """
    if setting.event and overrides and setting.name in overrides:
        try:
            return setting.check(overrides[setting.name])  # type: ignore[misc]
        except ValueError as error:
            raise InvalidEventError(setting.name, str(error)) from None
    if explicit is not _ABSENT and explicit is not None:
        return _parsed(setting, setting.check, explicit)
    if setting.env and setting.parse and _is_set(setting, environ):
        return _parsed(setting, setting.parse, environ[setting.env])
    return setting.default


def environment_value(name: str, environ: Mapping[str, str], *, explicit: Any = _ABSENT) -> Any:
    """The value of the setting read from variable ``name`` (explicit → environment → default)."""
    return resolve(BY_ENV[name], environ, explicit=explicit)


def reject_unknown_keys(overrides: Mapping[str, Any]) -> None:
    for key in overrides:
        if key not in EVENT_KEYS:
            raise InvalidEventError(str(key)[:64], f"is not a known key (known: {', '.join(EVENT_KEYS)})")


def _is_set(setting: Setting, environ: Mapping[str, str]) -> bool:
    if setting.blank_is_value:
        return setting.env in environ
    return bool(environ.get(setting.env or "", "").strip())


def _parsed(setting: Setting, parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except ValueError as error:
        raise InvalidSettingError(setting.env or setting.name, str(error)) from None
