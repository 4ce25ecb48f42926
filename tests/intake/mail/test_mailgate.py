"""Mail piped to ``opsdesk mailgate`` becomes a ticket (a new problem) or a comment (a reply
from someone allowed to comment); machines' mail and duplicates create nothing; what cannot
be used is quarantined, kept and replayable."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail as outbox
from django.test import Client
from django.utils import translation

from opsdesk.accounts.models import User
from opsdesk.intake import payloads
from opsdesk.intake.mail import services as mail
from opsdesk.intake.mail.parsing import parse
from opsdesk.intake.mail.replies import strip_prefixes
from opsdesk.intake.models import InboundMessage, InboundStatus, MailMessage
from opsdesk.notify.models import Delivery
from opsdesk.notify.senders import send_email
from opsdesk.notify.services import notify
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel
from opsdesk.tickets.models import Comment, Ticket, TimelineEvent
from tests.conftest import Api
from tests.factories import report
from tests.intake.mail import corpus
from tests.intake.mail.conftest import Deliver


def only_ticket() -> Ticket:
    [ticket] = Ticket.objects.all()
    return ticket


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize("client", list(corpus.new_problems()))
def test_mail_from_every_client_becomes_a_ticket_decoded_exactly(
    deliver: Deliver, client: str
) -> None:
    built = corpus.new_problems()[client]
    message = deliver(built.raw)

    assert message.status == InboundStatus.PROCESSED, message.error
    ticket = only_ticket()
    assert message.result["ticket"] == ticket.key
    assert ticket.title == strip_prefixes(built.subject)
    assert ticket.description == built.text
    assert ticket.channel == Channel.EMAIL
    assert ticket.submitter is None
    assert ticket.submitter_contact == built.sender.lower()
    files = {a.name: a.file.read() for a in ticket.attachments.all()}
    if client == "forwarded":  # the attached original message, re-serialised
        assert list(files) == list(built.attachments)
        inner = parse(files["报表导出乱码.eml"])
        assert (inner.subject, inner.text) == ("报表导出乱码", "导出的报表是乱码。")
    else:
        assert files == built.attachments
    assert "\ufffd" not in ticket.title + ticket.description


@pytest.mark.usefixtures("anyone_may_write")
def test_postfix_local_delivery_envelope_is_understood(deliver: Deliver) -> None:
    """Postfix's local(8) pipes a message with a "From " line and Return-Path first."""
    built = corpus.outlook_gbk()
    raw = (b"From wangfang@corp.example  Wed Nov 25 09:41:07 2026\n"
           b"Return-Path: <wangfang@corp.example>\r\nDelivered-To: helpdesk@corp.example\r\n"
           + built.raw)
    assert deliver(raw).status == InboundStatus.PROCESSED
    assert (only_ticket().title, only_ticket().description) == (built.subject, built.text)


@pytest.mark.usefixtures("anyone_may_write")
def test_control_characters_are_dropped_not_fatal(deliver: Deliver) -> None:
    built = corpus.plain(sender="ops@corp.example", subject="磁盘\x00告警", text="日志\x00\x07写满")
    assert deliver(built.raw).status == InboundStatus.PROCESSED
    assert (only_ticket().title, only_ticket().description) == ("磁盘告警", "日志写满")


@pytest.mark.usefixtures("anyone_may_write")
def test_html_only_mail_keeps_no_script(deliver: Deliver) -> None:
    deliver(corpus.html_only().raw)
    description = only_ticket().description
    assert description == corpus.html_only().text
    for executable in ("<", "script", "alert", "evil", "onload", "javascript"):
        assert executable not in description


def test_a_known_sender_is_the_submitter_and_sees_the_ticket(
    deliver: Deliver, people: dict[str, User]
) -> None:
    submitter = people["submitter"]
    submitter.email = "SunLi@Corp.Example"
    submitter.save()
    deliver(corpus.apple_rfc2231().raw)  # from sunli@corp.example

    ticket = only_ticket()
    assert ticket.submitter == submitter
    assert ticket.submitter_name == "孙丽"
    assert Api(submitter).read(ticket.key)["title"] == "登录页白屏（附截图）"


def test_an_unknown_sender_is_quarantined_then_replayed_once_allowed(
    deliver: Deliver, settings: Any
) -> None:
    message = deliver(corpus.qq_gb18030().raw)

    assert message.status == InboundStatus.QUARANTINED
    assert "12345678@qq.com" in message.error and "OPSDESK_MAIL_ALLOWED_DOMAINS" in message.error
    assert not Ticket.objects.exists()

    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["qq.com"]
    result = payloads.replay(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED and message.attempts == 2
    assert result["ticket"] == only_ticket().key
    assert only_ticket().submitter_name == "赵小燕"


def test_a_processing_crash_loses_nothing_and_replay_finishes_it(
    deliver: Deliver, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["corp.example"]

    def broken(**kwargs: Any) -> Ticket:
        raise RuntimeError("database went away")

    # Tickets are opened a batch at a time, and one by one when a batch fails.
    monkeypatch.setattr(tickets, "create_tickets", broken)
    monkeypatch.setattr(tickets, "create_ticket", broken)
    message = deliver(corpus.outlook_gbk().raw)
    assert message.status == InboundStatus.FAILED
    assert "database went away" in message.error
    assert not Ticket.objects.exists() and not MailMessage.objects.exists()

    monkeypatch.undo()
    payloads.replay(message_id=message.pk)
    assert only_ticket().description == corpus.outlook_gbk().text


@pytest.mark.usefixtures("anyone_may_write")
def test_the_same_message_id_never_opens_a_second_ticket(deliver: Deliver) -> None:
    built = corpus.foxmail_gbk()
    first = deliver(built.raw)
    second = deliver(built.raw)

    ticket = only_ticket()
    assert second.status == InboundStatus.PROCESSED
    assert second.result == {"duplicate_of": first.pk, "ticket": ticket.key}
    assert InboundMessage.objects.count() == 2  # both kept as they arrived


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize("kind", list(corpus.auto_replies()))
def test_auto_replies_and_bounces_open_nothing_and_send_nothing(
    deliver: Deliver, kind: str, people: dict[str, User]
) -> None:
    ticket = tickets.create_ticket(by=people["submitter"], **report(
        title="登录失败", impact="few_users", urgency="normal"))
    deliveries = Delivery.objects.count()
    message = deliver(corpus.auto_replies(ticket.key)[kind].raw)

    assert message.status == InboundStatus.PROCESSED
    assert "ignored" in message.result
    assert Ticket.objects.count() == 1 and not Comment.objects.exists()
    assert Delivery.objects.count() == deliveries


def reply(to: Ticket, sender: str, *, subject: str | None = None, text: str = "已经恢复了，谢谢。",
          **headers: Any) -> bytes:
    return corpus.plain(sender=sender, subject=subject or f"Re: [{to.key}] 登录失败",
                        text=text, **headers).raw


@pytest.fixture
def ticket(people: dict[str, User]) -> Ticket:
    return tickets.create_ticket(by=people["submitter"], **report(
        title="登录失败", impact="few_users", urgency="normal"))


@pytest.mark.parametrize("prefix", ["Re: ", "RE: ", "回复: ", "答复：", "转发: ", "Fwd: ",
                                    "Re: 回复: ", "RE[2]: ", "回覆: ", ""])
def test_a_reply_with_the_key_in_the_subject_becomes_a_comment(
    deliver: Deliver, ticket: Ticket, people: dict[str, User], prefix: str
) -> None:
    message = deliver(reply(ticket, people["submitter"].email,
                            subject=f"{prefix}[{ticket.key}] 登录失败"))

    assert message.status == InboundStatus.PROCESSED, message.error
    [comment] = Comment.objects.all()
    assert (comment.ticket, comment.author, comment.body) == (ticket, people["submitter"],
                                                               "已经恢复了，谢谢。")
    assert Ticket.objects.count() == 1


def test_a_reply_to_a_notification_threads_by_its_message_id(
    deliver: Deliver, ticket: Ticket, people: dict[str, User], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    [delivery] = notify(kind="status_update", ticket=ticket, recipients=[people["submitter"]],
                        context={"message": "已重启服务"}, dedupe_key="update-1")
    send_email(delivery)
    [sent] = outbox.outbox
    assert ticket.key in sent.subject

    deliver(reply(ticket, people["submitter"].email, subject="Re: 你好",
                  in_reply_to=sent.extra_headers["Message-ID"]))
    assert Comment.objects.get().ticket == ticket


def test_a_reply_to_the_first_mail_threads_by_references(
    deliver: Deliver, people: dict[str, User]
) -> None:
    sender = people["submitter"].email
    opened = deliver(corpus.plain(sender=sender, subject="VPN 连不上", text="VPN 报 809 错误",
                                  message_id="<first@corp.example>").raw)
    deliver(corpus.plain(sender=sender, subject="Re: VPN 连不上", text="重启后还是不行",
                         references="<first@corp.example>",
                         in_reply_to="<first@corp.example>").raw)

    assert only_ticket().key == opened.result["ticket"]
    assert Comment.objects.get().body == "重启后还是不行"


def test_a_reply_keeps_only_what_it_adds(
    deliver: Deliver, ticket: Ticket, people: dict[str, User]
) -> None:
    text = ("问题已解决。\n\n在 2026年11月25日 周三 10:00，opsdesk <opsdesk@localhost> 写道：\n"
            "> [OPS-1] 状态更新\n> 已重启服务")
    deliver(reply(ticket, people["submitter"].email, text=text))
    assert Comment.objects.get().body == "问题已解决。"


def test_strangers_cannot_comment_by_guessing_a_key(
    deliver: Deliver, ticket: Ticket, people: dict[str, User], settings: Any
) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["*"]
    other = deliver(reply(ticket, people["other_submitter"].email))
    stranger = deliver(reply(ticket, "attacker@evil.example"))
    missing = deliver(corpus.plain(sender="attacker@evil.example", subject="Re: [OPS-999999] x",
                                   text="x").raw)

    assert [m.status for m in (other, stranger, missing)] == [InboundStatus.QUARANTINED] * 3
    assert f"replied to {ticket.key}" in other.error
    assert "OPS-999999" in missing.error and "exist" not in missing.error
    assert not Comment.objects.exists() and Ticket.objects.count() == 1


def test_the_quarantine_reason_is_written_in_the_site_language(
    deliver: Deliver, ticket: Ticket
) -> None:
    with translation.override("zh-hans"):
        message = deliver(reply(ticket, "attacker@evil.example"))
    assert message.error == (f"attacker@evil.example 回复了 {ticket.key}，但不是该工单的提交人、"
                             "可查看它的部门人员、处理人或协作者。")


def test_staff_who_see_the_ticket_and_collaborators_may_comment(
    deliver: Deliver, ticket: Ticket, people: dict[str, User]
) -> None:
    assert deliver(reply(ticket, people["support"].email)).status == InboundStatus.PROCESSED
    outsider = deliver(reply(ticket, people["developer"].email, text="我看看"))
    assert outsider.status == InboundStatus.QUARANTINED

    tickets.set_collaborators(ticket_id=ticket.pk, by=people["duty"],
                              add=[people["developer"].username])
    payloads.replay(message_id=outsider.pk)
    assert [c.author for c in Comment.objects.all()] == [people["support"], people["developer"]]


def test_an_external_submitter_replies_from_the_address_they_wrote_from(
    deliver: Deliver, people: dict[str, User], settings: Any
) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["client.example"]
    deliver(corpus.plain(sender="customer@client.example", name="客户张三", subject="无法下单",
                         text="下单按钮灰色").raw)
    ticket = only_ticket()
    tickets.do_transition(ticket_id=ticket.pk, action="triage", by=people["duty"], version=None,
                          fields={"priority": "medium", "assignee": people["support"].username})
    tickets.do_transition(ticket_id=ticket.pk, action="acknowledge", by=people["support"],
                          version=None)
    tickets.do_transition(ticket_id=ticket.pk, action="request_info", by=people["support"],
                          version=None, fields={"comment": "请提供浏览器版本"})

    impostor = deliver(reply(ticket, "someone@client.example"))
    answer = deliver(reply(ticket, "Customer@Client.Example", text="Chrome 120"))

    assert impostor.status == InboundStatus.QUARANTINED
    assert answer.status == InboundStatus.PROCESSED
    comment = Comment.objects.get(body="Chrome 120")
    assert comment.author is None and comment.author_name == "customer@client.example"
    ticket.refresh_from_db()
    assert ticket.status == "analysing"  # the submitter answered: back from waiting
    event = TimelineEvent.objects.filter(kind="comment", data__body="Chrome 120").get()
    assert event.actor is None and event.data["from"] == "customer@client.example"


def test_a_reply_to_a_closed_ticket_is_quarantined_with_the_reason(
    deliver: Deliver, ticket: Ticket, people: dict[str, User]
) -> None:
    tickets.do_transition(ticket_id=ticket.pk, action="dismiss", by=people["duty"], version=None,
                          fields={"reason": "重复"})
    message = deliver(reply(ticket, people["submitter"].email))
    assert message.status == InboundStatus.QUARANTINED
    assert ticket.key in message.error
    assert not Comment.objects.exists()


def test_a_file_over_the_limit_is_left_out_and_noted(
    deliver: Deliver, people: dict[str, User], settings: Any
) -> None:
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 1000
    deliver(corpus.plain(sender=people["submitter"].email, subject="日志太大", text="见附件",
                         files={"小日志.txt": b"ok", "完整日志.tar.gz": b"x" * 5000}).raw)

    ticket = only_ticket()
    assert [a.name for a in ticket.attachments.all()] == ["小日志.txt"]
    [note] = TimelineEvent.objects.filter(ticket=ticket, data__skipped="完整日志.tar.gz")
    assert note.data["size"] == 5000 and note.data["limit"] == 1000


def test_a_reply_with_files_attaches_them_to_its_comment(
    deliver: Deliver, ticket: Ticket, people: dict[str, User]
) -> None:
    deliver(corpus.plain(sender=people["submitter"].email, subject=f"答复: [{ticket.key}] 登录失败",
                         text="", files={"截图.png": b"\x89PNG"}).raw)
    comment = Comment.objects.get()
    assert "截图.png" in comment.body
    assert [a.name for a in comment.attachments.all()] == ["截图.png"]


@pytest.mark.usefixtures("anyone_may_write")
def test_mail_without_a_sender_is_quarantined(deliver: Deliver) -> None:
    raw = corpus.message([("Subject", "no sender")],
                         corpus.text_part("hello", charset="utf-8"))
    assert deliver(raw).status == InboundStatus.QUARANTINED



def test_an_admin_reads_a_quarantined_mail_and_replays_it_in_one_click(
    deliver: Deliver, admin_client: Client, settings: Any
) -> None:
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    message = deliver(corpus.big5_taiwan().raw)
    assert message.status == InboundStatus.QUARANTINED

    page = admin_client.get(f"/admin/intake/inboundmessage/{message.pk}/change/").content.decode()
    assert "資料庫連線失敗" in page and "chen@corp.example.tw" in page  # readable, not Big5 bytes
    assert "OPSDESK_MAIL_ALLOWED_DOMAINS" in page

    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["corp.example.tw"]
    admin_client.post("/admin/intake/inboundmessage/",
                      {"action": "replay", "_selected_action": [message.pk]}, follow=True)
    assert only_ticket().description == corpus.BIG5_TEXT
    assert admin_client.get("/admin/intake/mailmessage/").status_code == 200


@pytest.mark.usefixtures("anyone_may_write")
@pytest.mark.parametrize("dispatching", ["inline", "worker"])
def test_a_batch_opens_its_new_problems_together_and_threads_replies_to_them(
    db: None, settings: Any, dispatching: str,
) -> None:
    settings.OPSDESK_DISPATCH = dispatching  # the worker's mode: the batch dispatches them
    first = corpus.plain(sender="wangfang@corp.example", subject="报表导出超时",
                         text="导出 10 万行时超时", message_id="<first@corp.example>")
    second = corpus.foxmail_gbk()
    answer = corpus.plain(sender="wangfang@corp.example", subject="Re: 报表导出超时",
                          text="今天又出现了", references="<first@corp.example>")
    third = corpus.plain(sender="lisi@corp.example", subject="登录页空白", text="Chrome 下空白")
    batch = [first.raw, second.raw, answer.raw, second.raw, auto_reply(), third.raw]

    delivered = mail.receive_many(batch, source="test")

    assert [bytes(d.message.body) for d in delivered] == batch  # answers in the given order
    opened = {t.title: t for t in Ticket.objects.all()}
    assert sorted(opened) == sorted(["报表导出超时", strip_prefixes(second.subject), "登录页空白"])
    [comment] = Comment.objects.all()
    assert comment.ticket == opened["报表导出超时"] and "今天又出现了" in comment.body
    results = [d.result for d in delivered]
    assert results[0]["ticket"] == opened["报表导出超时"].key
    assert results[2]["ticket"] == opened["报表导出超时"].key and "comment" in results[2]
    assert results[3]["duplicate_of"] == delivered[1].message.pk
    assert "ignored" in results[4]
    assert results[5]["ticket"] == opened["登录页空白"].key
    assert all(d.message.status == InboundStatus.PROCESSED for d in delivered)
    for ticket in opened.values():  # each routed, clocked and on its timeline as if alone
        kinds = list(ticket.timeline.values_list("kind", flat=True))
        assert kinds.count("created") == 1 and "sla" in kinds and "routing" in kinds
        assert ticket.dispatched


def auto_reply() -> bytes:
    return corpus.auto_replies()["auto-submitted"].raw
