"""The one role map: which role may do which action on which resource, for the REST API and the dashboard alike.

API viewsets name their `resource` and the permission class maps the viewset action (list, create, partial_update,
launch...) to one of the actions here; dashboard views name their resource and action in `dashboard_view`. Neither
door states a role of its own, so what a member may do is the same through both.
"""

from django.core.exceptions import ImproperlyConfigured

from .models import Role

MEMBER, ADMIN, OWNER = Role.MEMBER, Role.ADMIN, Role.OWNER

# resource -> action -> the least role that may do it (each role includes the ones below it).
ROLE_MAP: dict[str, dict[str, str]] = {
    "overview": {"view": MEMBER},
    # Notes and tags decide campaign audiences: changing them is an admin's, like sending.
    "subscribers": {"view": MEMBER, "export": MEMBER, "change": ADMIN},
    # One message in or out: the inbox and /api/v1/messages/; a reply is a send.
    "messages": {"view": MEMBER, "send": ADMIN},
    "numbers": {"view": MEMBER, "create": ADMIN, "change": ADMIN, "delete": ADMIN},
    "keywords": {"view": MEMBER, "create": ADMIN, "change": ADMIN, "delete": ADMIN},
    "help_reply": {"change": ADMIN},
    "consent_events": {"view": MEMBER, "verify": MEMBER, "evidence": MEMBER},
    # Adding a number only ever stops texts, so any member may; lifting one needs an admin.
    "suppressions": {"view": MEMBER, "create": MEMBER, "delete": ADMIN},
    "campaigns": {
        "view": MEMBER,
        "create": ADMIN,
        "change": ADMIN,
        "delete": ADMIN,
        "measure": ADMIN,
        "draft": ADMIN,
        "launch": ADMIN,
        "cancel": ADMIN,
    },
    "qr_codes": {"view": MEMBER, "create": ADMIN, "change": ADMIN, "delete": ADMIN},
    "simulator": {"view": MEMBER, "send": ADMIN},
    "business": {"view": MEMBER, "change": OWNER},
    # Leaving is everyone's own choice; removing someone else is an owner's.
    "team": {"view": MEMBER, "invite": OWNER, "change_role": OWNER, "remove": OWNER, "leave": MEMBER},
    "invitations": {"cancel": OWNER},
    "api_tokens": {"view": OWNER, "create": OWNER, "revoke": OWNER},
    "billing": {"view": MEMBER, "change": OWNER},
    "data": {"view": OWNER, "export": OWNER, "delete": OWNER},
    # Your own name, email and password: every role, for themselves only.
    "account": {"view": MEMBER, "change": MEMBER},
}

# What a DRF viewset action is in the map's words; a custom @action is looked up by its own name.
API_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "metadata": "view",  # OPTIONS
    "create": "create",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def role_needed(resource: str, action: str) -> str:
    """The least role that may do `action` on `resource`; a pair the map does not hold is a programming error."""
    try:
        return ROLE_MAP[resource][action]
    except KeyError:
        raise ImproperlyConfigured(
            f"The role map (accounts/roles.py) has no action {action!r} on {resource!r}: add it there."
        ) from None


def may(membership, resource: str, action: str) -> bool:
    """Whether `membership` may do `action` on `resource`."""
    return membership is not None and membership.has_role(role_needed(resource, action))


def permits(membership) -> dict[str, dict[str, bool]]:
    """Every answer of the map for `membership`, for templates: `{% if may.campaigns.create %}`."""
    return {
        resource: {action: may(membership, resource, action) for action in actions}
        for resource, actions in ROLE_MAP.items()
    }


def forbidden_message(*, resource: str, action: str, business_name: str) -> str:
    """What a refused request is told, through either door."""
    return f"This action needs the {role_needed(resource, action)} role in {business_name}."
