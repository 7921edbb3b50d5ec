"""Celery tasks: small wrappers that take ids and call one service."""

from celery import shared_task

from . import services


@shared_task(name="campaigns.launch_campaign", acks_late=True)
def launch_campaign(campaign_id: int):
    campaign = services.campaign_fan_out(campaign_id=campaign_id)
    return campaign.status if campaign else "missing"


@shared_task(name="campaigns.launch_due_campaigns", acks_late=True)
def launch_due_campaigns():
    return services.campaigns_launch_due()
