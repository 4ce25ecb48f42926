"""The integrations page (/manage/integrations/): senders with their endpoints and what they
sent; a secret is shown once, on the answer that made it, and works from then on; options
refused in words."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.utils import translation

from opsdesk.accounts.roles import Role
from opsdesk.intake import integrations
from opsdesk.intake.errors import BadSecret
from opsdesk.intake.models import Integration
from tests.web.conftest import text

SECRET = re.compile(r'<code class="secret">(whk_[^<]+)</code>')


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, display_name="管理员")


@pytest.fixture
def prometheus():
    return integrations.create_integration(name="prometheus", kind="alertmanager")[0]


def test_only_administrators_open_the_integrations(people, browser_as, prometheus):
    for who in ("duty", "ops", "submitter"):
        client = browser_as(people[who])
        assert client.get("/manage/integrations/").status_code == 403
        assert client.post("/manage/integrations/new/", {
            "name": "x", "kind": "zabbix"}).status_code == 403
        assert client.post(f"/manage/integrations/{prometheus.pk}/secret").status_code == 403
    assert list(Integration.objects.values_list("name", flat=True)) == ["prometheus"]


@pytest.mark.parametrize(("language", "kind"), [("zh-hans", "Prometheus Alertmanager"),
                                                ("en", "Prometheus Alertmanager")])
def test_integrations_are_listed_without_their_secrets(admin, browser_as, prometheus,
                                                       language, kind):
    page = text(browser_as(admin, language).get("/manage/integrations/"))
    assert "prometheus" in page and kind in page and "/api/v1/intake/alertmanager" in page
    assert f"{prometheus.secret_prefix}…" in page and prometheus.secret_digest not in page


def test_a_new_integration_shows_its_secret_once_and_it_works(admin, browser_as):
    client = browser_as(admin, "en")
    response = client.post("/manage/integrations/new/", {
        "name": "zabbix-prod", "kind": "zabbix", "enabled": "on", "options": "{}"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    [secret] = SECRET.findall(text(response))
    assert "http://testserver/api/v1/intake/zabbix" in text(response)
    integration = integrations.authenticate(kind="zabbix", presented=secret, remote_addr="10.0.0.1")
    assert integration.name == "zabbix-prod"
    assert LogEntry.objects.get(object_id=str(integration.pk)).action_flag == ADDITION
    for page in ("/manage/integrations/", f"/manage/integrations/{integration.pk}/"):
        assert secret not in text(client.get(page))


def test_a_new_secret_replaces_the_old_one_at_once(admin, browser_as, prometheus):
    old = integrations.rotate_secret(integration=prometheus)
    response = browser_as(admin, "en").post(f"/manage/integrations/{prometheus.pk}/secret")
    [secret] = SECRET.findall(text(response))
    assert integrations.authenticate(kind="alertmanager", presented=secret,
                                 remote_addr="10.0.0.1") == prometheus
    with pytest.raises(BadSecret):
        integrations.authenticate(kind="alertmanager", presented=old, remote_addr="10.0.0.1")
    assert LogEntry.objects.get(object_id=str(prometheus.pk)).action_flag == CHANGE


def test_a_signed_webhook_shows_its_signing_key_once(admin, browser_as):
    response = browser_as(admin, "en").post("/manage/integrations/new/", {
        "name": "cmdb", "kind": "webhook", "enabled": "on", "options": """{
        "fields": {"title": "summary", "description": "detail", "external_id": "id"},
        "signature_header": "X-Signature"}"""})
    page = text(response)
    assert response.status_code == 200, page
    assert "whs_" in page and "X-Signature" in page
    assert "/api/v1/intake/webhook/cmdb" in page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_options_that_are_not_json_are_refused_in_words(admin, browser_as, language):
    response = browser_as(admin, language).post("/manage/integrations/new/", {
        "name": "zabbix-prod", "kind": "zabbix", "options": '{"dedupe_by": "fingerprint",}'})
    assert response.status_code == 422
    with translation.override(language):
        expected = translation.gettext(
            "The options are not valid JSON: look at line %(line)s, column %(column)s (a "
            "missing or extra comma, quote or brace).") % {"line": 1, "column": 29}
    assert expected in text(response)
    assert not Integration.objects.exists()


def test_an_unknown_option_value_is_refused_by_the_model_s_words(admin, browser_as, prometheus):
    response = browser_as(admin, "en").post(f"/manage/integrations/{prometheus.pk}/", {
        "enabled": "on", "options": '{"dedupe_by": "colour"}'})
    assert response.status_code == 422 and "dedupe_by must be one of" in text(response)
    prometheus.refresh_from_db()
    assert prometheus.options == {}


def test_switching_an_integration_off(admin, browser_as, prometheus):
    response = browser_as(admin, "en").post(f"/manage/integrations/{prometheus.pk}/", {
        "options": "{}"})
    assert response.status_code == 302
    prometheus.refresh_from_db()
    assert not prometheus.enabled
    assert LogEntry.objects.get(object_id=str(prometheus.pk)).get_change_message() == \
        "Changed enabled."
