"""Celery tasks: small wrappers that take ids and call one service."""

from celery import shared_task

from . import services


@shared_task(name="campaigns.send_messages", acks_late=True)
def send_messages(message_ids: list[int]):
    return services.messages_send(message_ids=message_ids)


@shared_task(name="campaigns.send_replies", acks_late=True)
def send_replies(message_ids: list[int]):
    """The same send, for messages without a campaign: routed to the replies queue (settings.CELERY_TASK_ROUTES)."""
    return services.messages_send(message_ids=message_ids)


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
