"""Broken and hostile mail on the receive path: each message is stored, and becomes a ticket
with whatever text it still carries, or is quarantined with the reason; none stops the rest,
none fails, and no title shows U+FFFD."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.intake.mail import services as mail
from opsdesk.intake.mail.parsing import parse
from opsdesk.intake.mail.replies import strip_prefixes
from opsdesk.intake.models import InboundMessage, InboundStatus
from opsdesk.tickets.fields import LONG_TEXT_MAX
from opsdesk.tickets.models import Ticket
from tests.intake.mail import corpus, hostile
from tests.intake.mail.conftest import Deliver

ARRIVAL = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def only_ticket() -> Ticket:
    [ticket] = Ticket.objects.all()
    return ticket


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize("kind", list(hostile.every_broken_message()))
def test_a_multipart_that_cannot_be_split_keeps_its_text(deliver: Deliver, kind: str) -> None:
    built = hostile.every_broken_message()[kind]
    message = deliver(built.raw)

    assert message.status == InboundStatus.PROCESSED, message.error
    ticket = only_ticket()
    assert (ticket.title, ticket.description) == (strip_prefixes(built.subject), built.text)
    names = [a.name for a in ticket.attachments.all()]
    assert not [name for name in names if name.startswith("attachment-")], names
    for name, content in built.attachments.items():
        assert ticket.attachments.get(name=name).file.read() == content


@pytest.mark.usefixtures("anyone_may_write")
def test_a_forwarded_broken_message_is_attached_as_it_arrived(deliver: Deliver) -> None:
    deliver(hostile.forwarded_broken_message().raw)

    [attached] = only_ticket().attachments.all()
    inner = hostile.multipart_without_boundary()
    assert attached.name == f"{inner.subject}.eml"
    assert parse(attached.file.read()).text == inner.text


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize("kind", list(hostile.BAD_WORDS))
def test_an_unreadable_encoded_word_stays_as_written_in_the_title(
    deliver: Deliver, kind: str
) -> None:
    raw_subject, title = hostile.BAD_WORDS[kind]
    message = deliver(hostile.subject_with(raw_subject))

    assert message.status == InboundStatus.PROCESSED, message.error
    assert only_ticket().title == title
    assert "\ufffd" not in only_ticket().title


@pytest.mark.usefixtures("anyone_may_write")
def test_a_message_the_parser_cannot_read_is_quarantined_with_the_reason(
    deliver: Deliver, admin_client: Client
) -> None:
    message = deliver(hostile.parser_bomb().raw)

    assert message.status == InboundStatus.QUARANTINED
    assert "RecursionError" in message.error
    assert not Ticket.objects.exists()
    page = admin_client.get(f"/admin/intake/inboundmessage/{message.pk}/change/")
    assert page.status_code == 200 and "RecursionError" in page.content.decode()


@pytest.mark.usefixtures("anyone_may_write")
def test_one_unreadable_message_in_a_batch_leaves_the_others_whole(db: None) -> None:
    good = [corpus.outlook_gbk(), corpus.big5_taiwan()]
    batch = [good[0].raw, hostile.parser_bomb().raw, hostile.multipart_without_boundary().raw,
             good[1].raw]

    delivered = mail.receive_many(batch, source="test")

    assert [d.status for d in delivered] == [InboundStatus.PROCESSED, InboundStatus.QUARANTINED,
                                            InboundStatus.PROCESSED, InboundStatus.PROCESSED]
    assert Ticket.objects.count() == 3


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize("kind", list(hostile.BAD_DATES))
def test_an_impossible_date_falls_back_to_the_arrival_time(
    deliver: Deliver, admin_client: Client, kind: str
) -> None:
    date = hostile.BAD_DATES[kind]
    with time_machine.travel(ARRIVAL, tick=False):
        message = deliver(hostile.dated(date).raw)

    assert message.status == InboundStatus.PROCESSED, message.error
    assert message.result["sent_at"] == ARRIVAL.isoformat()
    assert only_ticket().description == hostile.TEXT
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    for page in ("/admin/intake/inboundmessage/", "/admin/intake/mailmessage/",
                 f"/admin/intake/inboundmessage/{message.pk}/change/"):
        assert admin_client.get(page).status_code == 200
    shown = admin_client.get(f"/admin/intake/inboundmessage/{message.pk}/change/")
    assert f"Date: {date}" in shown.content.decode()  # the header as written, to read


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize(("date", "sent_at"), [
    ("Wed, 25 Nov 2026 09:41:07 +0800", datetime(2026, 11, 25, 1, 41, 7, tzinfo=UTC)),
    # a sender's clock a few minutes fast is still the sender's time
    ("Wed, 25 Nov 2026 10:05:00 +0800", datetime(2026, 11, 25, 2, 5, tzinfo=UTC)),
    # more than a day ahead, or before 2000 (opsdesk.bounds), is a broken clock: the arrival
    ("Thu, 26 Nov 2026 11:00:00 +0800", ARRIVAL),
    ("Thu, 01 Jan 1970 00:00:00 +0000", ARRIVAL),
])
def test_a_usable_date_is_the_time_the_mail_was_sent(
    deliver: Deliver, date: str, sent_at: datetime
) -> None:
    with time_machine.travel(ARRIVAL, tick=False):
        message = deliver(hostile.dated(date).raw)
    assert message.result["sent_at"] == sent_at.isoformat()


@pytest.mark.usefixtures("anyone_may_write")
def test_a_reply_records_when_it_was_sent(deliver: Deliver) -> None:
    opened = corpus.plain(sender=hostile.SENDER, subject="VPN", text="连不上",
                          message_id="<vpn@corp.example>")
    answer = corpus.plain(sender=hostile.SENDER, subject="Re: VPN", text="好了",
                          references="<vpn@corp.example>")
    with time_machine.travel(ARRIVAL + timedelta(hours=1), tick=False):
        deliver(opened.raw)
        message = deliver(answer.raw)
    assert "comment" in message.result
    assert message.result["sent_at"] == datetime(2026, 11, 25, 1, 41, 7, tzinfo=UTC).isoformat()


@pytest.mark.usefixtures("anyone_may_write")
def test_a_text_longer_than_a_description_holds_is_cut_and_kept_whole(deliver: Deliver) -> None:
    text = "".join(f"第 {n} 行：连接超时\n" for n in range(12_000))
    assert len(text) > LONG_TEXT_MAX
    opened = deliver(corpus.plain(sender=hostile.SENDER, subject="日志", text=text,
                                  message_id="<log@corp.example>").raw)
    answer = deliver(corpus.plain(sender=hostile.SENDER, subject="Re: 日志", text=text,
                                  references="<log@corp.example>").raw)

    assert (opened.status, answer.status) == (InboundStatus.PROCESSED, InboundStatus.PROCESSED)
    ticket = only_ticket()
    comment = ticket.comments.get()
    for cut in (ticket.description, comment.body):
        assert len(cut) <= LONG_TEXT_MAX and text.startswith(cut[:90_000])
        assert "mail-text.txt" in cut[-200:]
    files = [a.file.read() for a in ticket.attachments.order_by("id")]
    assert files == [text.strip().encode(), text.strip().encode()]


def _mutate(raw: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """``raw`` with each (position, length to remove, bytes to insert) applied in turn."""
    for position, removed, inserted in edits:
        at = position % (len(raw) + 1)
        raw = raw[:at] + inserted + raw[at + removed:]
    return raw


SEEDS = [built.raw for built in corpus.new_problems().values()] + [
    built.raw for built in hostile.every_broken_message().values()]
EDITS = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 64),
                           st.binary(max_size=16) | st.sampled_from(
                               [b"\r\n", b"\r\n\r\n", b"--", b"=?", b"?=", b"\x00", b"\xff",
                                b"boundary=", b"Content-Type: multipart/mixed\r\n",
                                b"=?utf-8?B?", b"charset=rot13", b"Date: 31 Dec 9999\r\n"])),
                 min_size=1, max_size=8)


@pytest.mark.usefixtures("anyone_may_write")
@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), edits=EDITS)
def test_any_mutation_of_a_real_message_is_stored_and_used_or_quarantined(
    db: None, seed: bytes, edits: list[tuple[int, int, bytes]]
) -> None:
    raw = _mutate(seed, edits)
    with transaction.atomic():  # each example on its own: no duplicate of an earlier one
        delivered = mail.receive(raw=raw, source="fuzz")

        stored = InboundMessage.objects.get(pk=delivered.message.pk)
        assert bytes(stored.body) == raw
        if stored.status == InboundStatus.QUARANTINED:
            assert stored.error.strip()
        else:
            assert stored.status == InboundStatus.PROCESSED, stored.error
            assert {"ticket", "comment", "ignored", "duplicate_of"} & set(stored.result)
        transaction.set_rollback(True)
