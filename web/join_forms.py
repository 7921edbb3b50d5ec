"""The hosted opt-in form's fields; the rules about which numbers may be texted live in web/webform.py."""

from django import forms

from nextalerts.phones import InvalidPhoneNumber, to_e164

from .webform import Disclosure, NumberRefused, phone_for_texting

DISCLOSURE_CHANGED = (
    "The wording next to the box changed since this page was loaded. Please read it and tick the box again."
)


class JoinForm(forms.Form):
    phone = forms.CharField(
        label="Mobile number",
        max_length=40,
        error_messages={
            "required": "Enter your mobile number.",
            "max_length": "That is too long for a phone number.",
        },
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "placeholder": "(312) 555-0123"}
        ),
    )
    # Never ticked in advance: the consumer ticks it themselves.
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to agree to the text alerts; we only text people who agree."},
    )
    # Which wording the consumer saw, so that what the ledger records is exactly what was on their screen.
    disclosure_digest = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, region: str, disclosure: Disclosure, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region
        self.disclosure = disclosure
        self.fields["disclosure_digest"].initial = disclosure.digest
        # The typed number in E.164 as soon as it parses, even when the form then refuses it (for the rate limit).
        self.e164: str | None = None

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"]
        try:
            self.e164 = to_e164(raw.strip(), region=self.region)
        except InvalidPhoneNumber:
            self.e164 = None
        try:
            return phone_for_texting(raw=raw, region=self.region)
        except NumberRefused as exc:
            raise forms.ValidationError(str(exc), code="refused") from exc

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("consent") and self.data.get("disclosure_digest") != self.disclosure.digest:
            self.add_error("consent", forms.ValidationError(DISCLOSURE_CHANGED, code="disclosure_changed"))
            # Shown again unticked, next to the current wording.
            self.data = self.data.copy()
            self.data.pop("consent", None)
            self.data["disclosure_digest"] = self.disclosure.digest
        return cleaned
