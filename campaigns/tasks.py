"""Celery tasks: small wrappers that take ids and call one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, connection

from . import services

# A send whose database connection is gone (a failover, a pooler restart, a network cut) has claimed nothing that it
# did not record, so it runs again on a new connection a moment later — 1, 2, 4 … 30 s, some three minutes in all —
# instead of waiting for the dispatcher to find its messages stale (settings.SEND_STALE_SECONDS).
SEND_RETRIES = 9


def _send(task, message_ids: list[int]) -> dict:
    try:
        return services.messages_send(message_ids=message_ids)
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        raise task.retry(exc=exc, countdown=min(30, 2**task.request.retries), max_retries=SEND_RETRIES) from exc


@shared_task(name="campaigns.send_messages", acks_late=True, bind=True)
def send_messages(self, message_ids: list[int]):
    return _send(self, message_ids)


@shared_task(name="campaigns.send_replies", acks_late=True, bind=True)
def send_replies(self, message_ids: list[int]):
    """The same send, for messages without a campaign: routed to the replies queue (settings.CELERY_TASK_ROUTES)."""
    return _send(self, message_ids)


@shared_task(name="campaigns.launch_campaign", acks_late=True)
def launch_campaign(campaign_id: int):
    campaign = services.campaign_fan_out(campaign_id=campaign_id)
    return campaign.status if campaign else "missing"


@shared_task(name="campaigns.dispatch_due_messages", acks_late=True)
def dispatch_due_messages():
    return services.messages_dispatch_due()


@shared_task(name="campaigns.launch_due_campaigns", acks_late=True)
def launch_due_campaigns():
    return services.campaigns_launch_due()


@shared_task(name="campaigns.expire_uncertain_messages", acks_late=True)
def expire_uncertain_messages():
    return services.messages_expire_uncertain()
