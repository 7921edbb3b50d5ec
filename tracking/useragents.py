"""What a user agent says about the device behind it: for scan statistics, the sms: link syntax, and telling link
previews from people. Parsing is ua-parser's (the maintained uap-core regexes)."""

import functools
import re
from dataclasses import dataclass

from ua_parser import parse

# Fetchers that open a link to draw its preview card, not a person clicking it. iMessage's previews present
# themselves with facebookexternalhit/Twitterbot tokens.
PREVIEW_AGENTS = re.compile(
    r"facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|whatsapp|telegrambot|discordbot|linkedinbot"
    r"|skypeuripreview|applebot|pinterest|redditbot|embedly|vkshare|google-pagerenderer|googlebot|bingbot"
    r"|snapchat|viber|line/|kakaotalk-scrap|iframely|outbrain|quora link preview|bitlybot|tumblr|mastodon",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Device:
    type: str  # mobile, tablet, desktop, bot, other (tracking.models.Scan.Device)
    os: str
    browser: str
    platform: str  # "ios", "android" or "other": which sms: syntax the phone understands


@functools.lru_cache(maxsize=4096)
def describe(user_agent: str) -> Device:
    ua = user_agent or ""
    if not ua.strip():
        return Device("other", "", "", "other")
    result = parse(ua)
    os_family = result.os.family if result.os else ""
    browser = result.user_agent.family if result.user_agent else ""
    device_family = result.device.family if result.device else ""
    if is_preview(ua) or device_family == "Spider":
        return Device("bot", os_family, browser, "other")
    if os_family == "iOS" or device_family in ("iPhone", "iPad", "iPod"):
        kind = "tablet" if device_family == "iPad" else "mobile"
        return Device(kind, os_family or "iOS", browser, "ios")
    if os_family == "Android":
        return Device("mobile" if "Mobile" in ua else "tablet", os_family, browser, "android")
    if re.search(r"Mobile|Opera Mini|IEMobile|Windows Phone|KAIOS", ua, re.IGNORECASE):
        return Device("mobile", os_family, browser, "other")
    if os_family in ("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"):
        return Device("desktop", os_family, browser, "other")
    return Device("other", os_family, browser, "other")


def is_preview(user_agent: str) -> bool:
    return bool(PREVIEW_AGENTS.search(user_agent or ""))
