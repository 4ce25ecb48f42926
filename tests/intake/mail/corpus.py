"""Realistic mail, byte for byte as Chinese mail clients write it: Outlook (GBK text labelled
gb2312, GB18030 four-byte characters included), Foxmail (GBK, base64), QQ Mail (GB18030),
NetEase (UTF-8 quoted-printable), Apple Mail (UTF-8, RFC 2231 file names), Big5 from Taiwan,
HTML-only mail with a script, forwarded chains, auto-replies, bounces (DSN), and mislabelled
or unlabelled 8-bit text. Each builder returns the raw bytes and what a reader sees in them."""

from __future__ import annotations

import base64
import itertools
import quopri
import urllib.parse
from dataclasses import dataclass, field

CRLF = b"\r\n"
_counter = itertools.count(1)

# Text a support desk receives, with GB18030 four-byte characters (CJK Ext. B 𠀀 𡃁 and
# Ext. A 䶮) that GB2312 and GBK cannot encode, but Outlook still labels "gb2312".
PROBLEM = ("您好：\n今天上午 9:30 起，华东区用户登录后台提示“数据库连接池耗尽”，订单无法提交。\n"
           "错误信息：java.sql.SQLTransientConnectionException\n影响范围：运营部全部同事。")
RARE = "客户姓名含生僻字：𠀀 䶮 𡃁，系统显示为问号。"
BIG5_TEXT = "您好，資料庫連線失敗，報表無法匯出。請協助處理，謝謝！碁銹裏"


@dataclass
class Part:
    headers: list[tuple[str, str]]
    body: bytes

    def render(self) -> bytes:
        lines = [f"{name}: {value}".encode("ascii", "surrogateescape")
                 for name, value in self.headers]
        return CRLF.join(lines) + CRLF + CRLF + self.body


@dataclass
class Built:
    raw: bytes
    subject: str = ""
    sender: str = ""
    text: str = ""
    attachments: dict[str, bytes] = field(default_factory=dict)


def b64_body(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def word(text: str, charset: str, *, codec: str | None = None, encoding: str = "B") -> str:
    """An RFC 2047 encoded-word of ``text`` encoded with ``codec`` but labelled ``charset``."""
    data = text.encode(codec or charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    quoted = "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}"
                     for b in data)
    return f"=?{charset}?Q?{quoted}?="


def eight_bit(text: str, codec: str) -> str:
    """Raw 8-bit header text (no encoded-word), as old clients send it."""
    return text.encode(codec).decode("ascii", "surrogateescape")


def text_part(text: str, *, charset: str, codec: str | None = None, cte: str = "base64",
              subtype: str = "plain") -> Part:
    data = text.replace("\n", "\r\n").encode(codec or charset)
    if cte == "base64":
        body = b64_body(data)
    elif cte == "quoted-printable":
        body = quopri.encodestring(data)
    else:
        body = data
    return Part([("Content-Type", f'text/{subtype}; charset="{charset}"'),
                 ("Content-Transfer-Encoding", cte)], body)


def file_part(content: bytes, content_type: str, disposition: str) -> Part:
    return Part([("Content-Type", content_type),
                 ("Content-Disposition", disposition),
                 ("Content-Transfer-Encoding", "base64")], b64_body(content))


def multipart(subtype: str, parts: list[Part], extra: str = "") -> Part:
    boundary = f"----=_Part_{next(_counter)}_opsdesk"
    body = b""
    for part in parts:
        body += b"--" + boundary.encode() + CRLF + part.render() + CRLF
    body += b"--" + boundary.encode() + b"--" + CRLF
    return Part([("Content-Type", f'multipart/{subtype}; boundary="{boundary}"{extra}')], body)


def message(headers: list[tuple[str, str]], body: Part, *, message_id: str | None = None,
            date: str = "Wed, 25 Nov 2026 09:41:07 +0800") -> bytes:
    top = [("Date", date), ("MIME-Version", "1.0"), *headers]
    if message_id is not None:
        top.append(("Message-ID", message_id))
    return Part(top + body.headers, body.body).render()


def new_id(domain: str = "mail.example.com") -> str:
    return f"<{next(_counter)}.test@{domain}>"


def plain(*, sender: str, subject: str, text: str, message_id: str | None = None,
          in_reply_to: str = "", references: str = "",
          files: dict[str, bytes] | None = None, extra: list[tuple[str, str]] | None = None,
          name: str = "") -> Built:
    """An ordinary UTF-8 mail (Thunderbird-like), with optional files and reply headers."""
    headers = [("From", f"{word(name, 'utf-8')} <{sender}>" if name else sender),
               ("To", "helpdesk@corp.example"), ("Subject", word(subject, "utf-8"))]
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    if references:
        headers.append(("References", references))
    headers += extra or []
    body = text_part(text, charset="utf-8", cte="base64")
    if files:
        body = multipart("mixed", [body] + [
            file_part(content, "application/octet-stream",
                      f"attachment; filename*=utf-8''{urllib.parse.quote(file_name)}")
            for file_name, content in files.items()
        ])
    raw = message(headers, body, message_id=message_id or new_id())
    return Built(raw, subject, sender, text, dict(files or {}))


def outlook_gbk() -> Built:
    """Outlook: GBK text with GB18030 four-byte characters, every label 'gb2312'; the file
    name as an encoded-word inside the quotes (not RFC 2231)."""
    subject = "支付接口超时，生僻字 䶮 显示异常"
    text = PROBLEM + "\n" + RARE
    name = "华东区订单报表.xlsx"
    content = b"PK\x03\x04 fake xlsx"
    encoded_name = word(name, "gb2312", codec="gb18030")
    html = f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>"
    body = multipart("mixed", [
        multipart("alternative", [
            text_part(text, charset="gb2312", codec="gb18030", cte="base64"),
            text_part(html, charset="gb2312", codec="gb18030", cte="quoted-printable",
                      subtype="html"),
        ]),
        file_part(content, f'application/vnd.ms-excel; name="{encoded_name}"',
                  f'attachment; filename="{encoded_name}"'),
    ])
    raw = message([
        ("From", f'"{word("王芳", "gb2312")}" <wangfang@corp.example>'),
        ("To", '"=?gb2312?B?vLzK9bK/?=" <helpdesk@corp.example>'),
        ("Subject", word(subject, "gb2312", codec="gb18030")),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdmO3kVxYz1234567890abcdefghij"),
    ], body, message_id="<000001da1f2e$8a4b3c20$9ee1b460$@corp.example>")
    return Built(raw, subject, "wangfang@corp.example", text, {name: content})


def foxmail_gbk() -> Built:
    subject = "【紧急】生产环境 Redis 内存告警"
    text = "各位好：\n生产环境 Redis 内存使用率 95%，请尽快处理。\n附件是日志。"
    name = "redis-日志.txt"
    content = "2026-11-25 09:00:01 OOM command not allowed\n".encode("gbk")
    body = multipart("mixed", [
        text_part(text, charset="GBK", cte="base64"),
        file_part(content, f'application/octet-stream; name="{word(name, "GBK")}"',
                  f'attachment; filename="{word(name, "GBK")}"'),
    ])
    raw = message([
        ("From", f'"{word("李明", "GBK")}" <liming@corp.example>'),
        ("To", "helpdesk@corp.example"),
        ("Subject", word(subject, "GBK")),
        ("X-Mailer", "Foxmail 7.2.25.228[cn]"),
    ], body, message_id=f"<20261125090101{next(_counter)}@corp.example>")
    return Built(raw, subject, "liming@corp.example", text, {name: content})


def qq_gb18030() -> Built:
    subject = "报表导出 Excel 中文乱码（𠀀）"
    text = ("导出的 Excel 里中文全部是乱码，客户名“𡃁”也不对。\n"
            "浏览器：Chrome 120，系统：Windows 11。")
    body = multipart("alternative", [
        text_part(text, charset="gb18030", cte="base64"),
        text_part(f"<div>{text}</div>", charset="gb18030", cte="base64", subtype="html"),
    ])
    raw = message([
        ("From", f'"{word("赵小燕", "gb18030")}" <12345678@qq.com>'),
        ("To", "helpdesk@corp.example"),
        ("Subject", word(subject, "gb18030")),
        ("X-Mailer", "QQMail 2.x"),
        ("X-QQ-mid", "xmsezb1t1732500000tm5k9e2zz"),
    ], body, message_id=f"<tencent_{next(_counter)}A1B2C3@qq.com>")
    return Built(raw, subject, "12345678@qq.com", text)


def netease_utf8_qp() -> Built:
    subject = "接口偶发超时 504，影响支付回调"
    text = "支付回调接口偶发 504 超时，约每小时 3 次。\n请求 ID：a1b2c3d4。"
    raw = message([
        ("From", f'"{word("周杰", "UTF-8", encoding="Q")}" <zhoujie@163.com>'),
        ("To", "helpdesk@corp.example"),
        ("Subject", word(subject, "UTF-8", encoding="Q")),
        ("X-Mailer", "Coremail Webmail Server Version XT5.0.14"),
    ], text_part(text, charset="UTF-8", cte="quoted-printable"),
        message_id=f"<{next(_counter)}.5f3a.18c0@163.com>")
    return Built(raw, subject, "zhoujie@163.com", text)


def apple_rfc2231() -> Built:
    """Apple Mail: UTF-8, file names as RFC 2231 parameters, one split into continuations."""
    subject = "登录页白屏（附截图）"
    text = "打开登录页后白屏，控制台报错见截图。"
    short, long = "报错截图.png", "服务器日志-2026年11月25日-上午九点到十点.log"
    encoded = urllib.parse.quote(long)
    half = len(encoded) // 2
    while encoded[half - 1] == "%" or encoded[half - 2] == "%":
        half += 1
    files = {short: b"\x89PNG\r\n\x1a\n fake", long: b"ERROR login timeout\n"}
    body = multipart("mixed", [
        text_part(text, charset="utf-8", cte="quoted-printable"),
        file_part(files[short], "image/png",
                  f"inline; filename*=utf-8''{urllib.parse.quote(short)}"),
        file_part(files[long], "text/plain",
                  f"attachment;\r\n filename*0*=utf-8''{encoded[:half]};\r\n"
                  f" filename*1*={encoded[half:]}"),
    ])
    raw = message([
        ("From", f"{word('孙丽', 'utf-8')} <sunli@corp.example>"),
        ("To", "helpdesk@corp.example"),
        ("Subject", word(subject, "utf-8")),
        ("X-Mailer", "Apple Mail (2.3774.200.91.1.1)"),
    ], body, message_id=f"<{next(_counter)}A7F1-4C1B@corp.example>")
    return Built(raw, subject, "sunli@corp.example", text, files)


def big5_taiwan() -> Built:
    """A Taiwanese client: Big5 body in 8 bits (CP950's extra characters 碁銹裏 included)."""
    subject = "資料庫連線失敗"
    raw = message([
        ("From", f'"{word("陳志明", "big5")}" <chen@corp.example.tw>'),
        ("To", "helpdesk@corp.example"),
        ("Subject", word(subject, "big5")),
    ], text_part(BIG5_TEXT, charset="big5", codec="cp950", cte="8bit"),
        message_id=f"<{next(_counter)}@corp.example.tw>")
    return Built(raw, subject, "chen@corp.example.tw", BIG5_TEXT)


def html_only() -> Built:
    subject = "网页版工单"
    html = ("<html><head><style>p{color:red}</style><script>alert('head')</script></head>"
            "<body onload=\"steal()\"><p>订单页面<b>无法</b>打开。</p>"
            "<script type=\"text/javascript\">document.location='https://evil.example'</script>"
            "<div>步骤：<br>1. 登录<br>2. 点击“订单”</div>"
            "<img src=x onerror=alert(1)><a href=\"javascript:alert(2)\">详情</a></body></html>")
    raw = message([
        ("From", "web@corp.example"), ("To", "helpdesk@corp.example"),
        ("Subject", word(subject, "utf-8")),
    ], text_part(html, charset="utf-8", cte="quoted-printable", subtype="html"),
        message_id=new_id())
    seen = "订单页面无法打开。\n\n步骤：\n1. 登录\n2. 点击“订单”\n详情"
    return Built(raw, subject, "web@corp.example", seen)


def forwarded_chain() -> Built:
    """A complaint forwarded twice, quoted inline and attached as the original message."""
    inner_subject = "报表导出乱码"
    inner = message([("From", "customer@client.example"), ("To", "sales@corp.example"),
                     ("Subject", word(inner_subject, "gb2312"))],
                    text_part("导出的报表是乱码。", charset="gb2312"), message_id=new_id())
    text = ("请帮忙看一下客户的问题。\n\n-------- 转发的邮件 --------\n发件人：销售部 王强\n"
            "主题：转发: 报表导出乱码\n\n> 客户反馈导出的报表是乱码。")
    body = multipart("mixed", [
        text_part(text, charset="utf-8", cte="base64"),
        Part([("Content-Type", "message/rfc822"), ("Content-Disposition", "attachment")], inner),
    ])
    raw = message([
        ("From", "wangqiang@corp.example"), ("To", "helpdesk@corp.example"),
        ("Subject", word("转发: 转发: 报表导出乱码", "utf-8")),
    ], body, message_id=new_id())
    return Built(raw, "转发: 转发: 报表导出乱码", "wangqiang@corp.example", text,
                 {inner_subject + ".eml": inner})


def mislabelled_utf8() -> Built:
    """A body labelled utf-8 that is GBK, and a Subject in raw 8-bit GBK (no encoded-word)."""
    subject = "服务器磁盘空间不足"
    text = "服务器 10.0.3.17 磁盘使用率 98%，日志写不进去了。"
    raw = message([
        ("From", "ops@corp.example"), ("To", "helpdesk@corp.example"),
        ("Subject", eight_bit(subject, "gbk")),
    ], text_part(text, charset="utf-8", codec="gbk", cte="8bit"), message_id=new_id())
    return Built(raw, subject, "ops@corp.example", text)


def auto_replies(ticket_key: str = "OPS-1") -> dict[str, Built]:
    """The ways autoresponders, lists and mail servers mark what a machine sent."""
    def auto(extra: list[tuple[str, str]], subject: str) -> Built:
        return plain(sender="away@corp.example", subject=subject,
                     text="我正在休假，12 月 1 日返回。", extra=extra)

    subject = f"自动回复: [{ticket_key}] Status update"
    return {
        "auto-submitted": auto([("Auto-Submitted", "auto-replied")], subject),
        "x-autoreply": auto([("X-Autoreply", "yes")], subject),
        "x-autorespond": auto([("X-Autorespond", "Out of office")], subject),
        "precedence-bulk": auto([("Precedence", "bulk")], "每周简报"),
        "precedence-list": auto([("Precedence", "list")], "邮件列表"),
        "empty-return-path": auto([("Return-Path", "<>")], "Undelivered Mail"),
        "bounce": bounce_dsn(),
    }


def bounce_dsn() -> Built:
    report = multipart("report", [
        text_part("This is the mail system at host mx.corp.example.\n\nI'm sorry to have to "
                  "inform you that your message could not be delivered.", charset="us-ascii",
                  cte="7bit"),
        Part([("Content-Type", "message/delivery-status")],
             b"Reporting-MTA: dns; mx.corp.example\r\n\r\nFinal-Recipient: rfc822; "
             b"nobody@corp.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
    ], extra="; report-type=delivery-status")
    raw = message([
        ("Return-Path", "<>"),
        ("From", "MAILER-DAEMON@mx.corp.example (Mail Delivery System)"),
        ("To", "helpdesk@corp.example"),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("Auto-Submitted", "auto-replied"),
    ], report, message_id=new_id("mx.corp.example"))
    return Built(raw, "Undelivered Mail Returned to Sender", "MAILER-DAEMON@mx.corp.example")


def new_problems() -> dict[str, Built]:
    """The realistic new-problem mails, by client."""
    return {
        "outlook": outlook_gbk(), "foxmail": foxmail_gbk(), "qq": qq_gb18030(),
        "netease": netease_utf8_qp(), "apple": apple_rfc2231(), "big5": big5_taiwan(),
        "html-only": html_only(), "forwarded": forwarded_chain(),
        "mislabelled": mislabelled_utf8(),
    }
