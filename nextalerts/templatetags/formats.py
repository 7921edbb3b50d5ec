"""How pages write things for people: phone numbers, and the possessive of a name.

Loaded into every template (settings TEMPLATES "builtins"), so `{{ number|phone }}` works anywhere.
"""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from nextalerts.phones import phone_display

register = template.Library()


@register.filter(is_safe=True)
def phone(value):
    """ "+12025550143" as "(202) 555-0143" for a business in the US, "+44 20 7946 0958" for a UK number; anything
    that is not a phone number (blank, erased) unchanged, so `|phone|default:"—"` still works."""
    return phone_display(value)


@register.filter(needs_autoescape=True)
def possessive(value, autoescape=True):
    """ "Tony's Pizza" -> "Tony's Pizza's", "Flowers" -> "Flowers'"."""
    text = str(value)
    escape = conditional_escape if autoescape else str
    return mark_safe(escape(text) + ("'" if text.endswith(("s", "S")) else "'s"))
