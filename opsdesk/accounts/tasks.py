"""Background work of accounts: mailing sign-in links (so that asking for one answers at once,
and the same, whether or not the account exists)."""

from __future__ import annotations

from django_tasks import task

from opsdesk.accounts import selectors, sign_in_links


@task()
def mail_sign_in_link(login: str, requested_from: str, language: str) -> bool:
    """Mail a sign-in link to the active account ``login`` names (username or mail address),
    if there is one; returns whether a mail went."""
    user = selectors.get_user_by_login(login)
    return user is not None and sign_in_links.mail_link(
        user=user, requested_from=requested_from, language=language)
