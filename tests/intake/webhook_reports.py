"""What a customer-service system sends, and the mapping that reads it, for tests."""

from __future__ import annotations

from typing import Any

MAPPING: dict[str, Any] = {
    "fields": {
        "title": "ticket.subject", "description": "ticket.content",
        "submitter_name": "requester.name", "submitter_contact": "requester.email",
        "submitter_department": "requester.department", "priority": "ticket.priority",
        "external_id": "ticket.id", "occurred_at": "ticket.created_at",
        "module": "ticket.tags.0",
    },
    "value_maps": {"priority": {"P1": "urgent", "P2": "high", "P3": "medium", "P4": "low"}},
}


def report(ticket_id: int = 5521, **ticket: Any) -> dict[str, Any]:
    """What the customer-service system sends when a customer opens a ticket."""
    return {
        "event_id": f"evt_{ticket_id}_created",
        "ticket": {"id": ticket_id, "subject": "用户无法登录系统",
                   "content": "从 09:10 起，输入正确密码后提示“会话已过期”。",
                   "priority": "P2", "created_at": "2026-11-25T09:12:00+08:00",
                   "tags": ["payment", "login"], **ticket},
        "requester": {"name": "刘洋", "email": "liu.yang@example.com", "department": "财务部"},
    }
