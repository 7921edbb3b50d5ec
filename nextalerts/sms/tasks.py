"""Celery tasks of the SMS gateway."""

from celery import shared_task

from . import webhooks


@shared_task(name="sms.apply_delivery_reports", acks_late=True)
def apply_delivery_reports():
    result = webhooks.delivery_reports_apply_pending()
    if result["remaining"]:
        apply_delivery_reports.apply_async(countdown=0)
    return result
