"""What a channel's target may be for each kind of channel, and the one form it is stored in.

Chat robots are reached through apprise, whose URLs name the service (``dingtalk://TOKEN``).
Admins usually paste the webhook address the robot's settings page shows instead, so the
well-known ones are rewritten to apprise's form when the channel is saved.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from opsdesk.notify.choices import ChannelKind
from opsdesk.notify.redaction import scrubbed_logs, secret_fragments

# The apprise plugins that may serve each robot kind.
PLUGINS: dict[str, frozenset[str]] = {
    ChannelKind.DINGTALK: frozenset({"NotifyDingTalk"}),
    ChannelKind.WECOM: frozenset({"NotifyWeComBot"}),
    ChannelKind.FEISHU: frozenset({"NotifyFeishu", "NotifyLark"}),
    ChannelKind.SLACK: frozenset({"NotifySlack"}),
    ChannelKind.WEBHOOK: frozenset({"NotifyJSON", "NotifyForm", "NotifyXML"}),
}
FEISHU_HOSTS = {"open.feishu.cn": "feishu", "open.larksuite.com": "lark"}
HOOK_PATH = re.compile(r"^/open-apis/bot/v2/hook/([^/]+)/?$")


def is_plain_webhook(target: str) -> bool:
    """An http(s) address that gets opsdesk's own JSON document (not an apprise URL)."""
    return urlsplit(target).scheme in ("http", "https")


def _query_value(target: str, name: str) -> str:
    return (parse_qs(urlsplit(target).query).get(name) or [""])[0]


def normalise(kind: str, target: str) -> str:
    """``target`` in the form it is stored and sent to: robot pages' URLs become apprise's."""
    target = target.strip()
    parts = urlsplit(target)
    host = (parts.hostname or "").lower()
    token = _query_value(target, "access_token")
    if kind == ChannelKind.DINGTALK and host == "oapi.dingtalk.com" and token:
        return f"dingtalk://{token}/"
    key = _query_value(target, "key")
    if kind == ChannelKind.WECOM and host == "qyapi.weixin.qq.com" and key:
        return f"wecombot://{key}"
    hook = HOOK_PATH.match(parts.path)
    if kind == ChannelKind.FEISHU and hook and host in FEISHU_HOSTS:
        return f"{FEISHU_HOSTS[host]}://{hook.group(1)}"
    return target


def validate(kind: str, target: str) -> None:
    """Raise ValidationError unless ``target`` (normalised) can carry messages of ``kind``."""
    if kind == ChannelKind.EMAIL:
        validate_email(target)
        return
    if kind == ChannelKind.WEBHOOK and is_plain_webhook(target):
        if not urlsplit(target).hostname:
            raise ValidationError(_("The webhook address has no server name."))
        return
    import apprise  # here, not at the top: ~8 MB that most processes never need

    with scrubbed_logs(secret_fragments(target)):
        plugin = apprise.Apprise.instantiate(target)
    if plugin is None or type(plugin).__name__ not in PLUGINS.get(kind, frozenset()):
        raise ValidationError(
            _("This is not a valid address for a %(kind)s channel.")
            % {"kind": ChannelKind(kind).label}
        )
