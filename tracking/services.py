"""QR-code writes: making and changing a business's codes, and recording a scan.

A code only ever sends the consumer to their own messaging app with its text prefilled ("JOIN Q7K2"); the opt-in is
their text, handled by consent.services like any keyword, which credits the code through its `ref`.
"""

import ipaddress

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Business
from subscribers.models import Keyword, SenderNumber

from .models import QRCode, Scan, new_ref
from .useragents import describe

# new_ref() draws from 31^3 = 29,791 references per number; clashes are rare until a number has thousands of codes.
REF_ATTEMPTS = 20
EDITABLE = {"label", "is_active", "number", "keyword"}


def _scan_field(value, model_field: str) -> str:
    return (value or "")[: Scan._meta.get_field(model_field).max_length]


def _clean_label(label) -> str:
    text = (label or "").strip()
    if not text:
        raise ValidationError({"label": 'Say where the code is printed, such as "front door" or "flyer A".'})
    if len(text) > QRCode._meta.get_field("label").max_length:
        raise ValidationError({"label": "Keep the label to 100 characters or fewer."})
    return text


def _check_target(*, business: Business, number: SenderNumber, keyword: Keyword, check_active: bool) -> None:
    """The number and keyword must be the business's own, and the keyword one that the number answers to.

    The words for another business's number or keyword are the same as for one that does not exist.
    """
    if number.business_id != business.pk:
        raise ValidationError({"number": "No such number in your business."})
    if keyword.business_id != business.pk:
        raise ValidationError({"keyword": "No such keyword in your business."})
    if keyword.number_id != number.pk:
        raise ValidationError(
            {
                "keyword": f"{keyword.keyword} is a keyword on {keyword.number.phone_number}, not on "
                f"{number.phone_number}: choose one of that number's keywords, or that number."
            }
        )
    if check_active and not keyword.is_active:
        raise ValidationError(
            {"keyword": f"{keyword.keyword} is switched off, so texting it would do nothing; switch it on first."}
        )


def _out_of_refs(number: SenderNumber) -> ValidationError:
    return ValidationError({"number": f"No free QR reference was found on {number.phone_number}; try again."})


def _free_ref(number: SenderNumber, *, exclude_pk=None) -> str:
    taken = QRCode.objects.filter(number=number)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    for _ in range(REF_ATTEMPTS):
        ref = new_ref()
        if not taken.filter(ref=ref).exists():
            return ref
    raise _out_of_refs(number)


def _save_with_ref(qr_code: QRCode, *, keep_ref: bool) -> QRCode:
    """Save, drawing a new reference again when a concurrent request took the one picked first."""
    for attempt in range(REF_ATTEMPTS):
        if not keep_ref or attempt:
            qr_code.ref = _free_ref(qr_code.number, exclude_pk=qr_code.pk)
        try:
            with transaction.atomic():
                qr_code.save()
            return qr_code
        except IntegrityError:
            clash = QRCode.objects.filter(number=qr_code.number, ref=qr_code.ref).exclude(pk=qr_code.pk).exists()
            if not clash:
                raise
    raise _out_of_refs(qr_code.number)


def qr_code_create(
    *, business: Business, number: SenderNumber, keyword: Keyword, label: str, is_active: bool = True
) -> QRCode:
    _check_target(business=business, number=number, keyword=keyword, check_active=True)
    qr_code = QRCode(business=business, number=number, keyword=keyword, label=_clean_label(label), is_active=is_active)
    return _save_with_ref(qr_code, keep_ref=False)


def qr_code_update(*, instance: QRCode, **changes) -> QRCode:
    """Change the label, switch the code on or off, or point it at another number or keyword of the business.

    The printed image encodes only the code's URL, so it keeps working after any of these changes. The reference is
    kept unless the new number already has a code with it.
    """
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError({field: "This field cannot be changed." for field in sorted(unknown)})
    number = changes.get("number", instance.number)
    keyword = changes.get("keyword", instance.keyword)
    retargeted = number.pk != instance.number_id or keyword.pk != instance.keyword_id
    if retargeted:
        _check_target(business=instance.business, number=number, keyword=keyword, check_active=True)
    if "label" in changes:
        instance.label = _clean_label(changes["label"])
    if "is_active" in changes:
        instance.is_active = bool(changes["is_active"])
    moved = number.pk != instance.number_id
    instance.number, instance.keyword = number, keyword
    keep_ref = not moved or not QRCode.objects.filter(number=number, ref=instance.ref).exclude(pk=instance.pk).exists()
    return _save_with_ref(instance, keep_ref=keep_ref)


def qr_code_delete(*, instance: QRCode) -> None:
    """Its scans go with it; the ledger keeps the opt-ins it brought, and their subscribers stay subscribed."""
    instance.delete()


def _ip_or_none(ip) -> str | None:
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


def scan_record(*, qr_code: QRCode, user_agent: str, ip: str | None, referrer: str) -> Scan:
    device = describe(user_agent or "")
    return Scan.objects.create(
        business_id=qr_code.business_id,
        qr_code=qr_code,
        device_type=device.type,
        os=_scan_field(device.os, "os"),
        browser=_scan_field(device.browser, "browser"),
        user_agent=_scan_field(user_agent, "user_agent"),
        ip=_ip_or_none(ip),
        referrer=_scan_field(referrer, "referrer"),
    )
