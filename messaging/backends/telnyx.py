"""Telnyx, through the official SDK (`client.messages.send`; `client.phone_numbers.list` for which numbers the account
owns).

The SDK's automatic retries are off: a retried POST could send the same text twice. The caller retries only what
Telnyx certainly did not take (HTTP 429, connection refused); a hand-off that ends in doubt is reported as such.
"""

import functools

import httpx
import telnyx
from django.conf import settings

from ..messages import NumberCheckUnavailable, SendError, SendOutcomeUnknown, SendResult
from .base import BaseSmsBackend


@functools.cache
def _client(api_key, base_url, timeout):
    return telnyx.Telnyx(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)


def get_client() -> telnyx.Telnyx:
    return _client(settings.TELNYX_API_KEY, settings.TELNYX_BASE_URL, settings.TELNYX_TIMEOUT_SECONDS)


def _first_error(body):
    """Telnyx errors look like {"errors": [{"code": "40300", "title": ..., "detail": ...}]}."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
        return body
    return {}


def _retry_after(response):
    try:
        return max(0.0, float(response.headers.get("retry-after")))
    except (TypeError, ValueError):
        return None


# Statuses of a number the account no longer (or never did) hold: on its way out, or an order or port that failed.
NOT_HELD = {"deleted", "ported-out", "purchase-failed", "port-failed"}


class SmsBackend(BaseSmsBackend):
    def build_payload(self, sms):
        payload = {"from_": sms.from_number, "to": sms.to_number, "text": sms.text}
        if sms.media_urls:
            payload["media_urls"] = list(sms.media_urls)
        if sms.messaging_profile_id:
            payload["messaging_profile_id"] = sms.messaging_profile_id
        if sms.reference:
            payload["idempotency_key"] = sms.reference
        return payload

    def post(self, payload):
        try:
            return get_client().messages.send(**payload)
        except telnyx.APITimeoutError as exc:
            raise SendOutcomeUnknown(f"Telnyx did not answer in time: {exc}") from exc
        except telnyx.APIConnectionError as exc:
            if isinstance(exc.__cause__, httpx.ConnectError):
                raise SendError(f"Telnyx unreachable: {exc.__cause__}", code="connect", retryable=True) from exc
            raise SendOutcomeUnknown(f"connection to Telnyx failed mid-request: {exc}") from exc
        except telnyx.APIStatusError as exc:
            if exc.status_code >= 500:
                raise SendOutcomeUnknown(f"Telnyx answered {exc.status_code}; the message may have been taken") from exc
            error = _first_error(exc.body)
            code = str(error.get("code") or exc.status_code)
            detail = error.get("detail") or error.get("title") or str(exc)
            retryable = exc.status_code == 429
            raise SendError(
                detail, code=code, retryable=retryable, retry_after=_retry_after(exc.response) if retryable else None
            ) from exc

    def parse_result(self, response):
        data = getattr(response, "data", None)
        message_id = getattr(data, "id", None)
        if not message_id:
            raise SendOutcomeUnknown("Telnyx accepted the request but returned no message id")
        return SendResult(provider_message_id=message_id)

    def number_owned(self, phone_number):
        """Ask Telnyx (GET /v2/phone_numbers?filter[phone_number]=...) whether the account holds `phone_number`.

        The filter takes digits only and matches numbers that contain them, so only an exact match counts.
        """
        try:
            numbers = get_client().phone_numbers.list(
                filter={"phone_number": phone_number.lstrip("+")},
                page_size=250,
                # Else Telnyx answers 503 when it cannot load the numbers' messaging profiles, which are not read here.
                handle_messaging_profile_error="true",
            )
            return any(n.phone_number == phone_number and n.status not in NOT_HELD for n in numbers)
        except telnyx.APITimeoutError as exc:
            raise NumberCheckUnavailable("Telnyx did not answer in time") from exc
        except telnyx.APIConnectionError as exc:
            raise NumberCheckUnavailable(f"could not reach Telnyx: {exc.__cause__ or exc}") from exc
        except (telnyx.AuthenticationError, telnyx.PermissionDeniedError) as exc:
            raise NumberCheckUnavailable(f"Telnyx refused the platform's API key (TELNYX_API_KEY): {exc}") from exc
        except telnyx.APIStatusError as exc:
            raise NumberCheckUnavailable(f"Telnyx answered {exc.status_code} to the number look-up") from exc
