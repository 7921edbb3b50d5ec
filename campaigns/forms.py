"""The dashboard's compose form. Its checks are about typing; the rules a campaign must follow live in services."""

from django import forms
from django.utils import timezone

from messaging.services import MAX_BODY, MAX_MEDIA
from subscribers.fields import SenderNumberChoiceField
from subscribers.models import SenderNumber, Tag

from .ai import MAX_BRIEF, MAX_TONE

NOW, LATER = "now", "later"
EVERYONE, TAGGED = "all", "tags"
DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class CampaignForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=120,
        help_text="For you and your team; subscribers never see it.",
        error_messages={
            "required": 'Give the campaign a name, such as "Friday pizza deal".',
            "max_length": "Keep the name to 120 characters or fewer.",
        },
    )
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 5, "data-compose-body": ""}),
        # A little over the limit, so the service's message (which gives the length) is the one shown.
        max_length=MAX_BODY * 4,
        strip=False,
        error_messages={
            "required": "Write the message text.",
            "max_length": f"The message is far too long; the limit is {MAX_BODY} characters.",
        },
    )
    media_urls = forms.CharField(
        label="Picture links",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "data-compose-media": ""}),
        max_length=MAX_MEDIA * 2100,
        help_text=f"One web address per line (https://…), up to {MAX_MEDIA}. With a picture the text goes as an MMS.",
        error_messages={"max_length": f"Give at most {MAX_MEDIA} links."},
    )
    sender_number = SenderNumberChoiceField(
        label="Send from",
        queryset=SenderNumber.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Choose the number to send from.",
            "invalid_choice": "Choose one of your own numbers.",
        },
    )
    audience = forms.ChoiceField(
        label="Who gets it",
        choices=[(EVERYONE, "Everyone who is subscribed"), (TAGGED, "Subscribers with any of these tags")],
        initial=EVERYONE,
        widget=forms.RadioSelect(attrs={"data-compose-audience": ""}),
        error_messages={"required": "Choose who gets the message.", "invalid_choice": "Choose who gets the message."},
    )
    tags = forms.ModelMultipleChoiceField(
        label="Tags",
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-compose-tag": ""}),
        error_messages={
            "invalid_choice": "One of the chosen tags no longer exists; choose from the list.",
            "invalid_pk_value": "One of the chosen tags no longer exists; choose from the list.",
        },
    )
    track_links = forms.BooleanField(
        label="Count clicks on links (each web address becomes a short link)",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"data-compose-track": ""}),
    )
    when = forms.ChoiceField(
        label="When",
        choices=[(NOW, "Send now"), (LATER, "Schedule for later")],
        initial=NOW,
        widget=forms.RadioSelect(attrs={"data-compose-when": ""}),
        error_messages={"required": "Choose when to send.", "invalid_choice": "Choose when to send."},
    )
    send_at = forms.DateTimeField(
        label="Date and time",
        required=False,
        input_formats=[DATETIME_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        error_messages={"invalid": "Enter a date and time, such as 2026-05-01 18:30."},
    )

    def __init__(self, *args, business, time_zone_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.business = business
        self.fields["sender_number"].queryset = SenderNumber.objects.filter(business=business).order_by("id")
        self.fields["tags"].queryset = Tag.objects.filter(business=business).order_by("name")
        self.fields["send_at"].help_text = f"In your business's time zone ({time_zone_name})."

    def clean_body(self) -> str:
        # Browsers submit line breaks as CR LF; a text message needs only the LF, and each extra character is billed.
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean_media_urls(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["media_urls"].splitlines() if line.strip()]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("audience") == TAGGED and "tags" in cleaned and not cleaned["tags"]:
            self.add_error("tags", "Choose at least one tag, or send to everyone.")
        if cleaned.get("audience") == EVERYONE:
            cleaned["tags"] = []
        if cleaned.get("when") == LATER and "send_at" not in self.errors:
            send_at = cleaned.get("send_at")
            if send_at is None:
                self.add_error("send_at", "Choose the date and time to send.")
            elif send_at <= timezone.now():
                self.add_error("send_at", "That time has already passed; choose a time in the future.")
        if cleaned.get("when") == NOW:
            cleaned["send_at"] = None
        return cleaned

    def service_fields(self) -> dict:
        """The cleaned form as campaigns.services takes it (tags by name, as the API gives them)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "body": data["body"],
            "media_urls": data["media_urls"],
            "sender_number": data["sender_number"],
            "tags": [tag.name for tag in data["tags"]],
            "track_links": data["track_links"],
            "send_at": data["send_at"],
        }

    @classmethod
    def initial_for(cls, campaign) -> dict:
        tags = list(campaign.tags.all())
        return {
            "name": campaign.name,
            "body": campaign.body,
            "media_urls": "\n".join(campaign.media_urls or []),
            "sender_number": campaign.sender_number_id,
            "audience": TAGGED if tags else EVERYONE,
            "tags": [tag.pk for tag in tags],
            "track_links": campaign.track_links,
            "when": LATER if campaign.send_at else NOW,
            "send_at": campaign.send_at,
        }


class DraftRequestForm(forms.Form):
    """The "Write it for me" panel: what the text is about, how it should sound, how long it may be."""

    brief = forms.CharField(
        label="What is the text about?",
        max_length=MAX_BRIEF,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "20% off pizzas this Friday, for families"}),
        help_text="Offers, dates and who it is for. Leave out customers' names and numbers: they are not needed.",
        error_messages={
            "required": "Say what the text is about, such as “20% off pizzas this Friday, for families”.",
            "max_length": f"Keep the description to {MAX_BRIEF} characters or fewer.",
        },
    )
    tone = forms.CharField(
        label="Tone",
        required=False,
        max_length=MAX_TONE,
        widget=forms.TextInput(attrs={"placeholder": "friendly"}),
        error_messages={"max_length": f"Keep the tone to {MAX_TONE} characters or fewer, such as “fun”."},
    )
    max_segments = forms.TypedChoiceField(
        label="Length",
        choices=[
            (1, "1 segment (up to 160 characters)"),
            (2, "2 segments (up to 306 characters)"),
            (3, "3 segments (up to 459 characters)"),
        ],  # fmt: skip
        coerce=int,
        initial=1,
        error_messages={
            "required": "Choose how long the text may be.",
            "invalid_choice": "Choose how long the text may be.",
        },
    )
