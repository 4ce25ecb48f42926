"""Where a request comes from: runtime/addresses.py, the deployment's trusted proxies being the
runtime's concern. Named here too for the sign-in lockout (AXES_CLIENT_IP_CALLABLE), the
account pages and intake."""

from opsdesk.runtime.addresses import client_address

__all__ = ["client_address"]
