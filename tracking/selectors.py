"""QR-code reads: the code behind a scanned URL, its link and images, and how each code converts scans into opt-ins.

Opt-ins are counted from the consent ledger (opt-in events made through a QR code carry its id in their evidence), not
from Subscriber.qr_code: the ledger is append-only, so a code keeps the opt-ins it earned after the subscriber later
joins through another code, texts STOP, or has their data erased.
"""

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from accounts.models import Business
from consent.models import ConsentEvent

from .models import QRCode, Scan

# new_slug() makes 12 URL-safe characters; anything else cannot be a code (and a NUL byte would upset PostgreSQL).
SLUG = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Quartile error correction: a poster stays readable when a quarter of it is scuffed, torn or covered by a sticker.
ERROR_CORRECTION = "q"
QUIET_ZONE = 4  # modules of white around the symbol, the minimum the QR standard asks for
DEFAULT_SIZE = 600
MIN_SIZE = 100
MAX_SIZE = 4000  # about 34 cm wide at 300 dpi: a poster


@dataclass(frozen=True)
class QRCodeStats:
    scans: int  # people's scans: link-preview fetchers and crawlers are recorded but not counted
    opt_ins: int  # distinct phones that opted in by texting this code's prefilled body
    conversion_rate: float | None  # opt_ins / scans; None before the first scan


def qr_code_for_scan(*, slug: str) -> QRCode | None:
    """The live code a scanned URL points at, or None: unknown, switched off, its keyword switched off (texting it
    would do nothing), or its business deleted."""
    if not isinstance(slug, str) or not SLUG.match(slug):
        return None
    return (
        QRCode.objects.select_related("business", "number", "keyword")
        .filter(slug=slug, is_active=True, keyword__is_active=True)
        .exclude(business__status=Business.Status.DELETED)
        .first()
    )


def qr_code_url(qr_code: QRCode) -> str:
    """What the printed code encodes."""
    return settings.PUBLIC_BASE_URL + reverse("qr-scan", args=[qr_code.slug])


def qr_code_stats(*, qr_codes: Iterable[QRCode]) -> dict[int, QRCodeStats]:
    """Scans, opt-ins and conversion rate for each code, keyed by id: two queries however many codes."""
    codes = list(qr_codes)
    ids = [code.pk for code in codes]
    if not ids:
        return {}
    scans = dict(
        Scan.objects.filter(qr_code_id__in=ids)
        .exclude(device_type=Scan.Device.BOT)
        .values_list("qr_code_id")
        .annotate(n=Count("id"))
        .values_list("qr_code_id", "n")
    )
    opt_ins = {
        int(code_id): n
        for code_id, n in ConsentEvent.objects.filter(
            business_id__in={code.business_id for code in codes},
            kind=ConsentEvent.Kind.OPT_IN,
            method=ConsentEvent.Method.QR_CODE,
            evidence__qr_code_id__in=ids,
        )
        .values_list("evidence__qr_code_id")
        .annotate(n=Count("phone_hash", distinct=True))
        .values_list("evidence__qr_code_id", "n")
    }
    stats = {}
    for code_id in ids:
        scanned, joined = scans.get(code_id, 0), opt_ins.get(code_id, 0)
        stats[code_id] = QRCodeStats(scanned, joined, round(joined / scanned, 4) if scanned else None)
    return stats


def _symbol(qr_code: QRCode) -> segno.QRCode:
    # make_qr, not make: a short URL would otherwise become a Micro QR code, which most phone cameras cannot read.
    return segno.make_qr(qr_code_url(qr_code), error=ERROR_CORRECTION)


def qr_code_png(*, qr_code: QRCode, size: int = DEFAULT_SIZE) -> bytes:
    """A PNG at most `size` pixels square: whole pixels per module (sharp edges), the quiet zone widened by whole
    modules to come as close to `size` as that allows."""
    symbol = _symbol(qr_code)
    width = symbol.symbol_size(border=0)[0]
    scale = max(1, size // (width + 2 * QUIET_ZONE))
    border = max(QUIET_ZONE, (size // scale - width) // 2)
    out = io.BytesIO()
    symbol.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_code_svg(*, qr_code: QRCode, size: int | None = DEFAULT_SIZE, title: str = "") -> bytes:
    """An SVG document `size` pixels square; with size=None, only a viewBox, for a page to size with CSS."""
    symbol = _symbol(qr_code)
    out = io.BytesIO()
    options = {"border": QUIET_ZONE, "title": title or None, "svgclass": "qr", "lineclass": None}
    if size is None:
        symbol.save(out, kind="svg", omitsize=True, xmldecl=False, **options)
    else:
        symbol.save(out, kind="svg", scale=size / symbol.symbol_size(border=QUIET_ZONE)[0], **options)
    return out.getvalue()


def qr_codes_for_list(*, business: Business):
    """A business's codes, newest first, with the number and keyword each row names."""
    return QRCode.objects.filter(business=business).select_related("number", "keyword").order_by("-id")


@dataclass(frozen=True)
class PlatformScans:
    device_type: str
    os: str
    scans: int


def qr_code_scans_by_platform(*, qr_code: QRCode) -> list[PlatformScans]:
    """People's scans of a code by device type and operating system, most first (crawlers left out, as in
    qr_code_stats); one grouped query on the (qr_code, scanned_at) index."""
    rows = (
        Scan.objects.filter(qr_code=qr_code)
        .exclude(device_type=Scan.Device.BOT)
        .values("device_type", "os")
        .annotate(n=Count("id"))
        .order_by("-n", "device_type", "os")
    )
    return [PlatformScans(row["device_type"], row["os"], row["n"]) for row in rows]
