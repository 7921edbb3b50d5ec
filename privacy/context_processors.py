"""Template context for privacy notices and the cookie banner (filled in by the privacy work)."""


def privacy(request):
    return {}
