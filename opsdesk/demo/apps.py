from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a first start: people for every role, modules, tickets in every state."""

    name = "opsdesk.demo"
    label = "demo"
