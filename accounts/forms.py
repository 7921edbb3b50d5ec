"""Forms for the account pages: sign up, log in, the business profile, the team, API tokens, your own account."""

import zoneinfo
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse
from django.utils.html import format_html

from nextalerts.http import client_ip

from . import services
from .models import WEB_ADDRESS, Role

# Shown first in the time zone list: where almost every customer is.
US_TIME_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
]


def time_zone_choices():
    common = {value for value, _label in US_TIME_ZONES}
    others = sorted(zone for zone in zoneinfo.available_timezones() if zone not in common and "/" in zone)
    return [("United States", US_TIME_ZONES), ("All time zones", [(zone, zone.replace("_", " ")) for zone in others])]


def new_password_field(label: str) -> forms.CharField:
    """A password being chosen: the validators in AUTH_PASSWORD_VALIDATORS run in the service."""
    return forms.CharField(
        label=label,
        max_length=200,
        error_messages={"required": "Please choose a password."},
        strip=False,
        help_text="At least 10 characters; avoid common words.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ConsentCheckboxesMixin:
    """The two statements everyone who creates an account makes: age, and terms with the privacy policy."""

    def _add_consent_fields(self):
        self.fields["confirm_age"] = forms.BooleanField(
            label="I am 18 or older",
            error_messages={"required": "Please confirm that you are 18 or older."},
        )
        self.fields["accept_terms"] = forms.BooleanField(
            label=format_html(
                'I accept the <a href="{}">terms of service</a> and have read the <a href="{}">privacy policy</a>',
                reverse("terms"),
                reverse("privacy"),
            ),
            error_messages={"required": "Please accept the terms of service to continue."},
        )


class SignupForm(ConsentCheckboxesMixin, forms.Form):
    business_name = forms.CharField(
        label="Business name",
        max_length=120,
        error_messages={"required": "Please enter your business name."},
        help_text="The name your subscribers know you by; it appears in your texts.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.EmailField(
        label="Email address",
        error_messages={"required": "Please enter your email address."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = new_password_field("Password")
    support_contact = forms.CharField(
        label="Support contact",
        max_length=300,  # the service says what the limit is, in words
        required=False,
        help_text="Carriers require your reply to anyone who texts HELP to say how to reach you: a phone number, "
        "email address or web address. You can add it later in Settings.",
        widget=forms.TextInput(attrs={"placeholder": "help@yourshop.com or (415) 555-0100"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_consent_fields()

    def clean_business_name(self):
        name = self.cleaned_data["business_name"].strip()
        if not name:
            raise forms.ValidationError("Please enter your business name.")
        return name


class LockMessagesMixin:
    """For a log-in form: a refused log-in says when the lock holds (the backend, accounts/backends.py, enforces and
    counts it for every door) and, when `warn_when_left` is set, how many wrong passwords are left before it."""

    warn_when_left = 0

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as exc:
            email = self.cleaned_data.get("username")
            if exc.code != "invalid_login" or not email:
                raise
            ip = client_ip(self.request) if self.request is not None else None
            remaining = services.login_lock_remaining(email=email, ip=ip)
            if remaining:
                raise forms.ValidationError(services.login_locked_message(seconds=remaining), code="locked") from exc
            left = services.login_attempts_left(email=email, ip=ip)
            if left <= self.warn_when_left:
                raise self._few_left(left) from exc
            raise

    def _few_left(self, left):
        message = self.error_messages["one_left" if left == 1 else "few_left"]
        warning = message.format(left=left, minutes=_minutes(services.LOGIN_LOCK.total_seconds()))
        return forms.ValidationError(f"{self.error_messages['invalid_login']} {warning}", code="invalid_login")


class EmailLoginForm(LockMessagesMixin, AuthenticationForm):
    """Django's login form with an email label, friendlier messages, and the lock's messages."""

    error_messages = {
        "invalid_login": "That email and password don't match. Check them and try again.",
        "inactive": "This account has been switched off. Contact support to turn it back on.",
        "one_left": "One more wrong password locks logging in for {minutes}.",
        "few_left": "{left} more wrong passwords lock logging in for {minutes}.",
    }
    # From this many attempts left, a wrong password also says how many remain before the lock.
    warn_when_left = 2

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"] = forms.EmailField(
            label="Email address",
            max_length=254,
            widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        )
        self.fields["password"].max_length = 200
        self.fields["password"].widget.attrs["maxlength"] = 200

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class AdminLoginForm(LockMessagesMixin, AdminAuthenticationForm):
    """The platform admin's log-in, under the same lock as the dashboard's and the API's."""


def _minutes(seconds) -> str:
    minutes = max(1, -(-int(seconds) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class EmailPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class CreateBusinessForm(forms.Form):
    name = forms.CharField(
        label="Business name", max_length=120, error_messages={"required": "Please enter your business name."}
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Please enter your business name.")
        return name


class WebAddressField(forms.URLField):
    """An http(s) address; "example.com/terms" is taken as https://example.com/terms."""

    default_validators = [WEB_ADDRESS]
    default_error_messages = {"invalid": WEB_ADDRESS.message}

    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", max_length=500, required=False, **kwargs)


class BusinessForm(forms.Form):
    name = forms.CharField(
        label="Business name", max_length=120, error_messages={"required": "Please enter your business name."}
    )
    category = forms.CharField(
        label="Kind of business",
        max_length=80,
        required=False,
        help_text="Such as pizza shop, real-estate agent or gym: it tells the campaign writer how to sound.",
    )
    address = forms.CharField(label="Address", max_length=255, required=False)
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        required=False,
        help_text="Your business's own phone number.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    support_contact = forms.CharField(
        label="Support contact",
        max_length=255,
        required=False,
        help_text=(
            "Sent to anyone who texts HELP: an email address, phone number or web address where customers can "
            "reach you. If empty, your phone number is used."
        ),
    )
    terms_url = WebAddressField(
        label="Your terms page",
        help_text="Linked from your sign-up page. Leave empty to link NextAlerts' terms of service.",
    )
    privacy_url = WebAddressField(
        label="Your privacy policy",
        help_text="Linked from your sign-up page. Leave empty to link NextAlerts' privacy policy.",
    )
    time_zone = forms.ChoiceField(label="Time zone", help_text="Used for scheduling and for dates on these pages.")
    marketing_messages_per_day = forms.IntegerField(
        label="Marketing texts per subscriber per day",
        min_value=1,
        max_value=50,
        help_text="The most marketing texts one subscriber can get from you in 24 hours. Replies to STOP and HELP "
        "don't count.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Please enter your business name.")
        return name

    def clean_support_contact(self):
        try:
            return services.support_contact_clean(self.cleaned_data["support_contact"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


ROLE_CHOICES = [
    (Role.MEMBER, "Member — can see everything"),
    (Role.ADMIN, "Admin — also sends campaigns, manages numbers, keywords and QR codes"),
    (Role.OWNER, "Owner — also manages the team, API tokens and business settings"),
]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={"required": "Please enter the email address to send the invitation to."},
    )
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptInvitationForm(ConsentCheckboxesMixin, forms.Form):
    password = new_password_field("Choose a password")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_consent_fields()


def token_lifetime_choices():
    """How long a new token may live, up to the longest lifetime the API allows (API_TOKEN_MAX_DAYS)."""
    longest = settings.REST_KNOX.get("AUTO_REFRESH_MAX_TTL") or timedelta(days=365)
    days = [d for d in (1, 7, 30, 90, 365) if timedelta(days=d) <= longest]
    if not days or timedelta(days=days[-1]) < longest:
        days.append(longest.days or 1)
    return [(str(d), "1 day" if d == 1 else f"{d} days") for d in days]


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        error_messages={"required": "Please give the token a name."},
        help_text="What the token is for, so you recognise it later — for example “Website sign-up form”.",
    )
    lifetime = forms.ChoiceField(
        label="Expires after", help_text="The token stops working after this; create a new one then."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = token_lifetime_choices()
        self.fields["lifetime"].choices = choices
        self.fields["lifetime"].initial = choices[-1][0]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Please give the token a name.")
        return name

    @property
    def ttl(self) -> timedelta:
        return timedelta(days=int(self.cleaned_data["lifetime"]))


class SwitchBusinessForm(forms.Form):
    business = forms.IntegerField(label="Business", min_value=1, max_value=2**63 - 1)


# --- your own account -------------------------------------------------------------------------------------------------
def current_password_field() -> forms.CharField:
    return forms.CharField(
        label="Current password",
        max_length=200,
        strip=False,
        error_messages={"required": "Enter your current password."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class NameForm(forms.Form):
    prefix = "name"
    full_name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        help_text="Shown next to your email on the Team page of each business you belong to.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class EmailChangeForm(forms.Form):
    prefix = "email"
    new_email = forms.EmailField(
        label="New email address",
        max_length=254,
        error_messages={"required": "Enter the new email address."},
        help_text="We'll email a link to this address; your email changes when you open it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = current_password_field()


class PasswordChangeForm(forms.Form):
    prefix = "password"
    current_password = current_password_field()
    new_password = new_password_field("New password")
    new_password_again = forms.CharField(
        label="New password again",
        max_length=200,
        strip=False,
        error_messages={"required": "Type the new password again."},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        new, again = data.get("new_password"), data.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", "The two new passwords don't match. Type them again.")
        return data
