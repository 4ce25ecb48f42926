"""A person's report complete enough for any door (tickets/registration.py), so that the SLA
tests file tickets the way the portal and the API take them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def complete(**fields: Any) -> dict[str, Any]:
    """The registration fields a person's report needs, with ``fields`` added or instead."""
    return {
        "description": "下午支付回调陆续超时，运营部反馈订单状态不更新。",
        "occurred_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
        "steps_to_reproduce": "1. 下单并支付\n2. 等待回调\n3. 订单仍为待支付",
        "error_message": "callback timeout after 30s",
        "impact_scope": "运营部全部订单",
        "submitter_contact": "分机 8021",
        **fields,
    }
