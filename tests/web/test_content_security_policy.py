"""The pages left without the Content-Security-Policy: the admin's and the API's docs page, which
rely on inline styles and scripts (opsdesk's own pages: tests/web/test_ticket_page.py)."""

import pytest


@pytest.mark.parametrize("path", ["/admin/", "/api/v1/docs"])
def test_the_admin_and_the_api_docs_are_left_without_the_policy(path, make_user, browser_as):
    staff = make_user(is_staff=True, is_superuser=True)
    response = browser_as(staff).get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" not in response

