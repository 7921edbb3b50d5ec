from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from nextalerts.phones import InvalidPhoneNumber, to_e164

from . import services
from .models import Keyword, SenderNumber, Subscriber, Tag


class SenderNumberForm(forms.ModelForm):
    def clean_phone_number(self):
        # Inbound texts are matched on the E.164 form; a number stored any other way would never receive them.
        try:
            e164 = to_e164(self.cleaned_data["phone_number"])
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from exc
        if e164 != self.instance.phone_number:  # a new number, or a changed one: the same check as the API's
            try:
                services.number_owned_check(phone_number=e164)
            except services.NumberCheckUnavailable as exc:
                raise ValidationError(str(exc)) from exc
        return e164


@admin.register(SenderNumber)
class SenderNumberAdmin(admin.ModelAdmin):
    form = SenderNumberForm
    list_display = ["phone_number", "business", "messaging_profile_id", "messages_per_second"]
    list_filter = ["business"]
    search_fields = ["phone_number"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a number would leave its keywords, subscribers and messages with the business it came from.
        return ["business"] if obj is not None else []


class KeywordForm(forms.ModelForm):
    """The checks the API makes (one word, not reserved, not taken, the required disclosures), on a number of the
    keyword's own business."""

    class Meta:
        model = Keyword
        fields = ["number", "keyword", "confirmation_text", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["number"].queryset = SenderNumber.objects.filter(business_id=self.instance.business_id)

    def clean(self):
        cleaned = super().clean()
        number = cleaned.get("number")
        if number is not None and "keyword" in cleaned:
            try:
                cleaned["keyword"], cleaned["confirmation_text"] = services.keyword_clean(
                    business=self.instance.business if self.instance.pk else number.business,
                    number=number,
                    keyword=cleaned["keyword"],
                    confirmation_text=cleaned.get("confirmation_text", ""),
                    instance=self.instance if self.instance.pk else None,
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    form = KeywordForm
    list_display = ["keyword", "number", "business", "is_active"]
    list_filter = ["business", "is_active"]
    search_fields = ["keyword"]
    readonly_fields = ["business", "created_at"]

    def save_form(self, request, form, change):
        """Saves through the keyword services, like the API; save_model() then has nothing left to do."""
        keyword = form.save(commit=False)
        fields = {name: form.cleaned_data[name] for name in KeywordForm.Meta.fields}
        if change:
            return services.keyword_update(instance=keyword, **fields)
        return services.keyword_create(business=fields["number"].business, **fields)

    def save_model(self, request, obj, form, change):
        pass


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "business"]
    list_filter = ["business"]


class SubscriberForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "tags" in self.fields:
            # Tags are the business's own: offering (or accepting) another tenant's would mix their data.
            self.fields["tags"].queryset = Tag.objects.filter(business_id=self.instance.business_id)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Consent fields are read-only, and subscribers cannot be added here: only the consumer's text does that."""

    list_display = ["phone_number", "business", "status", "opt_in_method", "opted_in_at", "opted_out_at"]
    list_filter = ["business", "status", "opt_in_method"]
    search_fields = ["phone_number", "name", "email"]
    readonly_fields = [
        "business",
        "phone_number",
        "phone_hash",
        "status",
        "opt_in_method",
        "opted_in_at",
        "opted_out_at",
        "pending_since",
        "number",
        "qr_code",
        "quiet_profile",
        "created_at",
        "updated_at",
    ]
    filter_horizontal = ["tags"]
    form = SubscriberForm

    def has_add_permission(self, request):
        return False
