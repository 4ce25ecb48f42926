"""An inspection plan of the payment module, owned by its module owner."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import Module, User
from opsdesk.inspections import services
from opsdesk.inspections.models import InspectionPlan

SH = ZoneInfo("Asia/Shanghai")
# Wednesday 25 November 2026, 08:00 in Shanghai.
MORNING = datetime(2026, 11, 25, 8, 0, tzinfo=SH)
CHECKLIST = [
    ("检查 nginx 错误日志", "近 24 小时 5xx 少于 100 条即为通过"),
    ("检查磁盘使用率", "各分区使用率低于 80%"),
    ("检查 RAID 状态", "所有阵列为 Optimal"),
]


def make_plan(owner: User, module: Module | None, **kwargs: object) -> InspectionPlan:
    options: dict[str, object] = {
        "name": "支付服务器日常巡检", "schedule": "0 9 * * *", "items": CHECKLIST,
        "grace_minutes": 60, **kwargs,
    }
    return services.create_plan(owner=owner, module=module, **options)  # type: ignore[arg-type]


@pytest.fixture
def plan(people: dict[str, User], payment: Module) -> InspectionPlan:
    with time_machine.travel(MORNING, tick=False):
        return make_plan(people["owner"], payment)
