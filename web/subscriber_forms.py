"""Forms for the subscriber, inbox and number pages. They check shape only; the services decide what is allowed."""

from django import forms
from django.core.exceptions import ValidationError

from consent.replies import MAX_HELP_LENGTH
from messaging.services import MAX_BODY
from subscribers.fields import SenderNumberChoiceField
from subscribers.models import SenderNumber
from subscribers.services import MAX_RATE, MIN_RATE

MAX_TAGS = 30


class SubscriberEditForm(forms.Form):
    """The business's own notes on a subscriber; nothing about consent."""

    name = forms.CharField(max_length=120, required=False)
    email = forms.EmailField(required=False, max_length=254)
    tags = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Separate tags with commas, e.g. vip, downtown. Campaigns can go to subscribers with a tag.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, required=False)

    def clean_tags(self):
        names = [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]
        if len(names) > MAX_TAGS:
            raise ValidationError(f"Use at most {MAX_TAGS} tags.")
        too_long = [name for name in names if len(name) > 50]
        if too_long:
            raise ValidationError("Keep each tag under 50 characters.")
        return names


class ReplyForm(forms.Form):
    phone = forms.CharField(max_length=32, widget=forms.HiddenInput)
    body = forms.CharField(
        label="Your reply",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write your reply first."},
    )
    # Bounded: a hand-edited id beyond the database's integer range must be a form error, not a crash.
    number = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)


class NumberCreateForm(forms.Form):
    phone_number = forms.CharField(
        label="Phone number",
        max_length=32,
        help_text="The Telnyx number you bought, e.g. +1 415 555 0100.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    messaging_profile_id = forms.CharField(
        label="Telnyx messaging profile id",
        max_length=64,
        required=False,
        help_text="From the Telnyx portal; leave blank to use your account's default.",
    )
    messages_per_second = forms.IntegerField(
        label="Texts per second",
        min_value=MIN_RATE,
        max_value=MAX_RATE,
        initial=1,
        help_text="How fast campaigns may send from this number. A standard 10DLC number allows 1.",
    )


class NumberEditForm(forms.Form):
    messaging_profile_id = NumberCreateForm.base_fields["messaging_profile_id"]
    messages_per_second = NumberCreateForm.base_fields["messages_per_second"]


class KeywordForm(forms.Form):
    number = SenderNumberChoiceField(
        queryset=SenderNumber.objects.none(),
        label="Number",
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your numbers."},
    )
    keyword = forms.CharField(
        max_length=20,
        help_text="One word of 2 to 20 letters or digits, such as PIZZA.",
        error_messages={"max_length": "Use one word of 2 to 20 letters or digits, such as JOIN or PIZZA."},
    )
    confirmation_text = forms.CharField(
        label="Confirmation text",
        max_length=MAX_BODY,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The text people get when they join with this keyword. Leave blank for the default.",
    )
    is_active = forms.BooleanField(label="Active (people can join by texting it)", required=False, initial=True)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].queryset = SenderNumber.objects.filter(business=business).order_by("id")


class HelpReplyForm(forms.Form):
    help_text = forms.CharField(
        label="Your HELP reply",
        required=False,
        # Not the field's max_length: the service explains the limit in words, with everything else that is missing.
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_HELP_LENGTH}),
        help_text=f"Up to {MAX_HELP_LENGTH} characters. Leave it blank to use the standard reply.",
    )
    # Sent by the "Use the standard reply" button, so that going back needs no clearing of the box first.
    use_standard = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("use_standard"):
            cleaned["help_text"] = ""
        return cleaned
