"""The visitor's cookie choice: essential cookies only, or analytics too. Kept in a first-party cookie for a year."""

from django.conf import settings

COOKIE_NAME = "cookie_consent"
ESSENTIAL = "essential"
ANALYTICS = "analytics"
CHOICES = (ESSENTIAL, ANALYTICS)
MAX_AGE = 365 * 24 * 60 * 60


def essential_cookie_names() -> set[str]:
    """The only cookies the service sets without asking: session, CSRF, language, and the choice itself."""
    return {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, COOKIE_NAME}


def cookie_choice(request) -> str:
    """The visitor's recorded choice, or "" when they have not chosen (or the cookie holds anything else)."""
    value = request.COOKIES.get(COOKIE_NAME, "")
    return value if value in CHOICES else ""


def analytics_available() -> bool:
    return bool(settings.ANALYTICS_SCRIPT_URL)


def analytics_allowed(request) -> bool:
    return analytics_available() and cookie_choice(request) == ANALYTICS


def cookie_choice_set(response, *, request, choice: str) -> None:
    """Remember `choice` on `response`; choosing essential only also drops any other cookie this site holds, such as
    one an analytics script set while it was allowed."""
    if choice not in CHOICES:
        raise ValueError(f"unknown cookie choice {choice!r}")
    response.set_cookie(
        COOKIE_NAME,
        choice,
        max_age=MAX_AGE,
        samesite="Lax",
        secure=not settings.DEBUG,
        httponly=True,
    )
    if choice == ESSENTIAL:
        for name in set(request.COOKIES) - essential_cookie_names():
            response.delete_cookie(name, samesite="Lax")
