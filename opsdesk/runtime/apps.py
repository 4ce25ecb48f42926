from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """The processes opsdesk runs as: the web server and the background worker."""

    name = "opsdesk.runtime"
    label = "runtime"
