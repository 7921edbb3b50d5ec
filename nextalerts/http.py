"""Request helpers shared by the public pages."""

import ipaddress

from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str | None:
    """The client's address, trusting only as many X-Forwarded-For hops as NUM_PROXIES (as the API throttles do);
    None when there is no usable address (a Unix socket, garbage)."""
    try:
        return str(ipaddress.ip_address((BaseThrottle().get_ident(request) or "").strip()))
    except ValueError:
        return None
