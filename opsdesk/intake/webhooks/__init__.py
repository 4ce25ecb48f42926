"""Generic webhooks of customer-service systems and ticket platforms: ``mapping`` reads a
source's payload through its mapping (data in the integration's options; pure: no database),
``reports`` keeps one ticket per report, known by its idempotency key."""
