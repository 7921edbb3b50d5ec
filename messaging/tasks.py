"""Celery tasks of messaging: small wrappers that take ids and call one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, connection

from . import services, webhooks

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


def _send_messages(self, message_ids: list[int]):
    return _send(self, message_ids)


def _send_replies(self, message_ids: list[int]):
    """The same send, for messages without a campaign: routed to the replies queue (settings.CELERY_TASK_ROUTES)."""
    return _send(self, message_ids)


def _dispatch_due_messages():
    return services.messages_dispatch_due()


def _expire_uncertain_messages():
    return services.messages_expire_uncertain()


def _apply_delivery_reports():
    result = webhooks.delivery_reports_apply_pending()
    if result["remaining"]:
        apply_delivery_reports.apply_async(countdown=0)
    return result


send_messages = shared_task(name="messaging.send_messages", acks_late=True, bind=True)(_send_messages)
send_replies = shared_task(name="messaging.send_replies", acks_late=True, bind=True)(_send_replies)
dispatch_due_messages = shared_task(name="messaging.dispatch_due_messages", acks_late=True)(_dispatch_due_messages)
expire_uncertain_messages = shared_task(name="messaging.expire_uncertain_messages", acks_late=True)(
    _expire_uncertain_messages
)
apply_delivery_reports = shared_task(name="messaging.apply_delivery_reports", acks_late=True)(_apply_delivery_reports)

# The names these tasks had before messaging was an app of its own: what the previous release queued (a send waiting
# for its countdown, say) still runs after an upgrade. Nothing queues under these names any more.
LEGACY_NAMES = {
    "campaigns.send_messages": (_send_messages, True),
    "campaigns.send_replies": (_send_replies, True),
    "campaigns.dispatch_due_messages": (_dispatch_due_messages, False),
    "campaigns.expire_uncertain_messages": (_expire_uncertain_messages, False),
    "sms.apply_delivery_reports": (_apply_delivery_reports, False),
}
for _name, (_function, _bind) in LEGACY_NAMES.items():
    shared_task(name=_name, acks_late=True, bind=_bind)(_function)
