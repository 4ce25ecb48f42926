"""HTML-only mail from Chinese mail clients, read as the text its reader saw: Outlook's Word
markup and tables, Foxmail's divs and quoted headers, QQ Mail's signature and original-mail
block; styles, scripts, conditional comments and link targets never reach the ticket."""

from __future__ import annotations

from opsdesk.intake.mail.html_text import MAX_DEPTH, html_to_text

OUTLOOK = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv=Content-Type content="text/html; charset=gb2312">
<meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--
@font-face {font-family:宋体; panose-1:2 1 6 0 3 1 1 1 1 1;}
p.MsoNormal {margin:0cm; font-size:10.5pt; font-family:等线;}
--></style><!--[if gte mso 9]><xml><o:shapedefaults spidmax="1026" /></xml><![endif]-->
</head><body lang=ZH-CN style='text-justify:inter-ideograph'><div class=WordSection1>
<p class=MsoNormal>张工，您好：<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>今天上午&nbsp;9:30&nbsp;起，支付网关出现大量超时，影响如下：<o:p></o:p></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>
<tr><td><p class=MsoNormal><b>系统</b></p></td><td><p class=MsoNormal><b>错误率</b></p></td>
<td><p class=MsoNormal><b>备注</b></p></td></tr>
<tr><td><p class=MsoNormal>支付网关</p></td><td><p class=MsoNormal>12%</p></td>
<td><p class=MsoNormal>华东区</p></td></tr>
<tr><td><p class=MsoNormal>对账服务</p></td><td><p class=MsoNormal>3%</p></td>
<td><p class=MsoNormal>&nbsp;</p></td></tr></table>
<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>请尽快处理，谢谢！<o:p></o:p></p>
<p class=MsoNormal><span lang=EN-US>--<br></span>王芳<br>运维部&nbsp;|&nbsp;分机&nbsp;8021</p>
</div></body></html>"""

FOXMAIL = """<html><head><meta http-equiv="content-type" content="text/html; charset=GBK">
<style>body { line-height: 1.5; } p { margin-top: 0px; margin-bottom: 0px; }</style></head>
<body><div><span></span>各位好：</div><div>&nbsp; 生产环境&nbsp;Redis&nbsp;内存使用率&nbsp;95%，
请尽快处理。</div><div><br></div><ul><li>主机：redis-01</li><li>时间：2026-11-25&nbsp;09:00</li>
</ul><hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">
<div><span><div style="MARGIN: 10px; FONT-SIZE: 10pt"><div>李明</div></div></span></div>
<blockquote style="margin-Top: 0px; margin-Left: 0.5em"><div>&nbsp;</div>
<div style="border-top:solid #B5C4DF 1.0pt"><div><b>发件人：</b>&nbsp;监控系统</div></div>
<div>内存告警：used_memory&nbsp;&gt;&nbsp;95%</div></blockquote></body></html>"""

QQ_MAIL = """<meta http-equiv="Content-Type" content="text/html; charset=GB18030">
<div>您好，</div><div>&nbsp; &nbsp; 报表导出后中文乱码，客户名“𡃁”显示为问号。</div><div><br></div>
<div><img src="cid:E1B2C3D4@qq.com"></div><div><sign signid="0"><div style="color:#909090">
------------------</div><div><div>赵小燕</div><div>财务部&nbsp;&nbsp;<a href="mailto:1234@qq.com">
1234@qq.com</a></div></div></sign></div><div>&nbsp;</div><div><includetail><div>
<div>------------------&nbsp;原始邮件&nbsp;------------------</div><div><div><b>发件人:</b>&nbsp;
"报表系统"&lt;report@corp.example&gt;;</div></div><div><br></div>导出任务&nbsp;#8812&nbsp;已完成。
</div></includetail></div>"""


def test_outlook_keeps_a_table_row_on_one_line_and_drops_word_markup():
    assert html_to_text(OUTLOOK) == (
        "张工，您好：\n\n"
        "今天上午 9:30 起，支付网关出现大量超时，影响如下：\n\n"
        "系统    错误率  备注\n\n"
        "支付网关  12%  华东区\n\n"
        "对账服务  3%\n\n"
        "请尽快处理，谢谢！\n\n"
        "--\n王芳\n运维部 | 分机 8021"
    )


def test_foxmail_divs_are_lines_and_the_list_stays_a_list():
    assert html_to_text(FOXMAIL) == (
        "各位好：\n"
        "生产环境 Redis 内存使用率 95%， 请尽快处理。\n\n"
        "  * 主机：redis-01\n"
        "  * 时间：2026-11-25 09:00\n"
        "李明\n"
        "发件人： 监控系统\n"
        "内存告警：used_memory > 95%"
    )


def test_qq_mail_keeps_rare_characters_and_the_original_mail_but_no_link_target():
    text = html_to_text(QQ_MAIL)
    assert text.startswith("您好，\n报表导出后中文乱码，客户名“𡃁”显示为问号。\n")
    assert "赵小燕\n财务部 1234@qq.com\n" in text
    assert text.endswith('发件人: "报表系统"<report@corp.example>;\n\n导出任务 #8812 已完成。')
    assert "mailto" not in text and "cid:" not in text


def test_scripts_styles_and_link_targets_are_dropped():
    text = html_to_text('<style>p{color:red}</style><p>看<a href="javascript:alert(1)">详情</a>'
                        "<script>alert(2)</script></p><svg><text>图</text></svg>"
                        "<iframe>框</iframe><template>模板</template>")
    assert text == "看详情"


def test_noscript_is_shown_as_a_mail_client_without_scripts_shows_it():
    assert html_to_text("<p>看</p><noscript>请用网页版查看</noscript>") == "看\n\n请用网页版查看"


def test_text_nested_deeper_than_libxml2s_limit_is_kept():
    # libxml2 (under lxml, under inscriptis) drops the whole document when elements nest 255
    # deep, and inscriptis recurses once per level: a long reply chain must not lose its text.
    depth = 3 * MAX_DEPTH
    html = ("<blockquote><div>" * depth + "最早的一封<script>evil()</script>"
            + "</div></blockquote>" * depth + "<p>最新的回复</p>")
    assert html_to_text(html) == "最早的一封\n\n最新的回复"


def test_nothing_to_read_is_empty_text():
    assert html_to_text("") == html_to_text("<!-- 空 -->") == html_to_text(" \n") == ""
