"""What messaging tells the apps above it, and the one thing it asks of them.

Messaging knows no app above it (campaigns, reminders, automations): it sends their messages and reports back.

- `messages_settled` (a signal) is sent when messages of campaigns left "queued" or "sending" for good (sent,
  delivered, failed, blocked…), with `campaign_ids`, the set of their campaigns: the owner decides whether a
  campaign is done.
- A composer (the registry) writes a message's final content just before its hand-off, from the row: a campaign
  rewrites its links per message and adds its pictures. The first composer that answers wins; without one, the row's
  own body goes out, with no media.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.dispatch import Signal

messages_settled = Signal()


@dataclass(frozen=True)
class Content:
    body: str
    media_urls: tuple[str, ...] = ()


Composer = Callable[[object], Content | None]
_composers: list[Composer] = []


def composer_register(composer: Composer) -> None:
    """Called from an AppConfig.ready(); registering the same function twice keeps one."""
    if composer not in _composers:
        _composers.append(composer)


def content_of(message) -> Content:
    for composer in _composers:
        content = composer(message)
        if content is not None:
            return content
    return Content(body=message.body)


def settled_send(campaign_ids) -> None:
    campaign_ids = {campaign_id for campaign_id in campaign_ids if campaign_id}
    if campaign_ids:
        messages_settled.send(sender=None, campaign_ids=campaign_ids)
