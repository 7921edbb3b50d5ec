"""Celery tasks: small wrappers that take ids and call one service."""

from celery import shared_task

from . import services


@shared_task(name="campaigns.send_message", bind=True, max_retries=8, acks_late=True)
def send_message(self, message_id: int):
    try:
        message = services.message_send(message_id=message_id)
    except services.RetryLater as exc:
        if self.request.retries >= self.max_retries:
            services.message_give_up(message_id=message_id, reason=f"provider kept refusing: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    return message.status if message else "missing"


@shared_task(name="campaigns.requeue_stale_messages", acks_late=True)
def requeue_stale_messages():
    return services.messages_requeue_stale()
