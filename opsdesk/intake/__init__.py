"""Intake: the doors problems come in through (monitoring alerts, generic webhooks, mail), each
authenticated, its payload stored before it is used, and a repeat never a second ticket.

Where things are:

- ``integrations``: integrations and their secrets (created, rotated, checked on every
  request; a webhook's body signature); ``configure``: the same, as the administration page
  changes them, audited.
- ``payloads``: every inbound payload stored as received, used in one transaction with its
  mark, bounded lock waits, replay; ``RECEIVERS``, the table of what each kind does with one.
- ``alerts/``: Alertmanager and Zabbix payloads read into notices (``alertmanager``,
  ``zabbix``, ``notices``), what a stored one becomes (``receivers``), and one ticket per
  fault (``deduplication``).
- ``webhooks/``: a source's payload read through its mapping (``mapping``), one ticket per
  idempotency key (``reports``).
- ``mail/``: mail piped in or fetched by IMAP, its own path to storage and replay.
- ``models``, ``selectors``, ``schemas``, ``api``, ``admin``, ``errors``, ``moments`` (the
  times a sender may give): as in every app.

Adding an intake kind (say, another monitoring system):

1. ``models.IntegrationKind``: its value and label, and in ``Integration.clean`` the check of
   its options; a migration for the new choice.
2. A reader, pure: for a monitoring system ``alerts/<kind>.py`` producing
   ``notices.AlertNotice`` (its ``identity`` is what makes a repeat the same fault); for a new
   family of reports, a sub-package like ``webhooks/``.
3. A receiver, ``(integration, payload, message) -> write``: it reads the payload (raising
   ``errors.PayloadRejected``) and returns the write that uses it; for alerts, in
   ``alerts/receivers.py``, handing the notices to ``deduplication.receive_alerts``.
4. Its row in ``payloads.RECEIVERS``.
5. Its endpoint in ``api.py``: authenticate (``integrations``), ``payloads.store_inbound``,
   ``payloads.process``. An alert's ticket is filed under the channel of its integration's
   kind: a monitoring system needs a ``tickets.choices.Channel`` of the same value.
6. Tests in ``tests/intake/``, and translations of its new messages.
"""
