"""/api/v1/campaigns/ and /api/v1/messages/."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from messaging import services as messaging_services
from messaging.models import Message
from nextalerts.api import BusinessViewSet, choice_filter, phone_filter
from nextalerts.schema import error_response
from subscribers.api import BusinessNumberField
from tracking.models import Click

from . import ai, selectors, services
from .models import Campaign


class MeasurementSerializer(serializers.Serializer):
    """How the body will be billed: encoding, segments, and why it is UCS-2 when it is."""

    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    segments = serializers.IntegerField()
    units = serializers.IntegerField(help_text="Septets (GSM-7) or UTF-16 code units (UCS-2).")
    per_segment = serializers.IntegerField()
    non_gsm_characters = serializers.ListField(child=serializers.CharField())
    mms = serializers.BooleanField()
    summary = serializers.CharField(help_text="e.g. \"2 segments, UCS-2 because of 'é'\"")


def _measurement(campaign) -> dict:
    m = selectors.campaign_measurement(campaign=campaign)
    return {
        "encoding": m.encoding,
        "segments": m.segments,
        "units": m.units,
        "per_segment": m.per_segment,
        "non_gsm_characters": list(m.non_gsm),
        "mms": m.mms,
        "summary": m.describe(),
    }


class ProgressSerializer(serializers.Serializer):
    """A sending campaign's texts that are not final yet, by what they wait for."""

    quiet_hours = serializers.IntegerField(help_text="Queued until the recipient's quiet hours end.")
    retrying = serializers.IntegerField(help_text="Refused for now by the carrier; queued until they retry.")
    payment = serializers.IntegerField(help_text="Held while campaigns are paused for an overdue payment.")
    going_out = serializers.IntegerField(help_text="Due now or being handed over.")
    summary = serializers.CharField(help_text='e.g. "120 waiting for quiet hours to end"')


class TagNamesListField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]


class CampaignNumberField(BusinessNumberField):
    # Required when a campaign is written; null when read once its number was deleted (it then needs another one).
    nullable_on_read = True


class CampaignSerializer(serializers.ModelSerializer):
    number = CampaignNumberField(source="sender_number")
    tags = TagNamesListField(required=False, help_text="Audience: subscribers with any of these tags; empty: all.")
    media_urls = serializers.ListField(child=serializers.CharField(max_length=2000), required=False)
    measurement = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "body", "number", "tags", "media_urls", "send_at", "track_links", "status", "status_detail",
            "status_text", "progress", "measurement", "created_at", "launched_at", "completed_at",
        ]  # fmt: skip
        read_only_fields = ["id", "status", "status_detail", "created_at", "launched_at", "completed_at"]

    status_text = serializers.SerializerMethodField(
        help_text='The status as the dashboard says it: "Sending — 120 waiting for quiet hours to end".'
    )
    progress = serializers.SerializerMethodField(
        help_text="While sending: the texts not final yet, by what they wait for; null otherwise. A campaign is "
        "sent only once every text is final (handed to the carrier, failed, blocked or cancelled)."
    )

    def _progress(self, campaign):
        cache = self.context.setdefault("campaign_progress", {})
        if campaign.pk not in cache:
            cache[campaign.pk] = selectors.campaign_progress(campaigns=[campaign]).get(campaign.pk)
        return cache[campaign.pk]

    @extend_schema_field(MeasurementSerializer)
    def get_measurement(self, campaign) -> dict:
        return _measurement(campaign)

    def get_status_text(self, campaign) -> str:
        return selectors.campaign_status_text(campaign=campaign, progress=self._progress(campaign))

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_progress(self, campaign) -> dict | None:
        progress = self._progress(campaign)
        if progress is None:
            return None
        return {
            "quiet_hours": progress.quiet_hours,
            "retrying": progress.retrying,
            "payment": progress.payment,
            "going_out": progress.going_out,
            "summary": progress.describe(),
        }


class CampaignDetailSerializer(CampaignSerializer):
    stats = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "stats"]

    def get_stats(self, campaign) -> dict:
        return selectors.campaign_stats(campaign=campaign)


class DraftRequestSerializer(serializers.Serializer):
    brief = serializers.CharField(
        max_length=ai.MAX_BRIEF, help_text='What the text is about: "20% off pizzas this Friday, families".'
    )
    tone = serializers.CharField(max_length=ai.MAX_TONE, required=False, allow_blank=True, default="")
    max_segments = serializers.IntegerField(min_value=1, max_value=ai.MAX_SEGMENTS, default=2)


class IssueSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class DraftSerializer(serializers.Serializer):
    body = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField(), help_text="What was changed to make it pass.")
    flags = IssueSerializer(many=True, help_text="Content carriers may filter (alcohol, firearms...): yours to decide.")
    segments = serializers.IntegerField()
    encoding = serializers.CharField()


class DraftsSerializer(serializers.Serializer):
    drafts = DraftSerializer(many=True)


class DraftingUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class DraftingFailed(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY


def _draft(draft) -> dict:
    check = draft.check.as_dict()
    return {"body": draft.body, "notes": list(draft.notes), "flags": check["flags"], "segments": check["segments"],
            "encoding": check["encoding"]}  # fmt: skip


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=Campaign.Status.values)])
)
class CampaignViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    BusinessViewSet,
):
    """Campaigns: written as drafts, launched now or at send_at, cancelled while messages are still queued."""

    queryset = Campaign.objects.all()
    resource = "campaigns"  # who may write, draft, launch and cancel: accounts/roles.py

    def get_serializer_class(self):
        return CampaignDetailSerializer if self.action in ("retrieve", "launch", "cancel") else CampaignSerializer

    def get_queryset(self):
        queryset = super().get_queryset().select_related("sender_number").prefetch_related("tags")
        if self.action == "list":
            wanted = choice_filter(self.request, "status", Campaign.Status.values)
            if wanted:
                queryset = queryset.filter(status=wanted)
        return queryset

    def perform_create(self, serializer):
        serializer.instance = services.campaign_create(
            business=self.request.business, created_by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.campaign_update(instance=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.campaign_delete(instance=instance)

    @extend_schema(request=None, responses={202: CampaignDetailSerializer})
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        """Send now, or schedule when send_at is in the future."""
        campaign = services.campaign_launch_checked(campaign=self.get_object())
        campaign.refresh_from_db()
        return Response(self.get_serializer(campaign).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=DraftRequestSerializer,
        responses={
            200: DraftsSerializer,
            429: error_response("This hour's drafting requests are used up: wait Retry-After seconds."),
            502: error_response("The writing service answered with something unusable: try again."),
            503: error_response("Drafting is not set up on this service, or the writing service is not answering."),
        },
    )
    @action(detail=False, methods=["post"])
    def draft(self, request):
        """Up to three suggested bodies written from a brief, each already checked (business name, opt-out, length,
        no public link shorteners); drafts that could not be made to pass are left out."""
        data = DraftRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            drafts = ai.campaign_drafts_write(business=request.business, **data.validated_data)
        except ai.RateLimited as exc:
            throttled = exceptions.Throttled(detail=exc.message)
            throttled.wait = exc.retry_after  # sent as Retry-After; the message already says when
            raise throttled from exc
        except (ai.NotConfigured, ai.ProviderUnavailable) as exc:
            raise DraftingUnavailable(exc.message) from exc
        except ai.ProviderError as exc:
            raise DraftingFailed(exc.message) from exc
        return Response({"drafts": [_draft(d) for d in drafts]})

    @extend_schema(request=None, responses={200: CampaignDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop every message not yet handed to the provider."""
        campaign = services.campaign_cancel(campaign=self.get_object())
        return Response(self.get_serializer(campaign).data)


class MessageClickSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The original URL the tracked link led to.")
    clicked_at = serializers.DateTimeField()


def _person_clicks(business):
    """A message's clicks by the recipient, oldest first; link-preview fetches are left out."""
    clicks = Click.objects.filter(business=business, is_preview=False).only("message_id", "url", "clicked_at")
    return clicks.order_by("clicked_at", "id")


class MessageSerializer(serializers.ModelSerializer):
    sender_number = serializers.CharField(
        source="sender_number.phone_number",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="The business's number it went out from or came in on; null when none is recorded, or once that "
        "number was deleted.",
    )
    clicks = serializers.SerializerMethodField(help_text="Tracked links of this message the recipient followed.")

    class Meta:
        model = Message
        fields = [
            "id", "direction", "kind", "phone_number", "sender_number", "body", "status", "campaign",
            "send_after", "provider_message_id", "error_code", "error_detail", "parts", "cost", "cost_currency",
            "created_at", "sent_at", "delivered_at", "clicks",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(MessageClickSerializer(many=True))
    def get_clicks(self, message) -> list[dict]:
        clicks = getattr(message, "person_clicks", None)  # prefetched by MessageViewSet
        if clicks is None:
            if message.campaign_id is None:  # only campaign messages carry tracked links
                return []
            clicks = _person_clicks(message.business_id).filter(message=message)
        return MessageClickSerializer(clicks, many=True).data


class TransactionalMessageSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="The subscriber's number, E.164 (other common formats are accepted).")
    body = serializers.CharField(max_length=messaging_services.MAX_BODY)
    number = BusinessNumberField(required=False, help_text="Sender number id; default: the one they opted in on.")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("phone_number", OpenApiTypes.STR, description="E.164, e.g. +12025550123"),
            OpenApiParameter("campaign", OpenApiTypes.INT),
            OpenApiParameter("direction", OpenApiTypes.STR, enum=Message.Direction.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Message.Status.values),
        ]
    ),
    create=extend_schema(request=TransactionalMessageSerializer, responses={201: MessageSerializer}),
)
class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, BusinessViewSet):
    """Every message in and out; POST sends one transactional message to a subscriber who opted in."""

    queryset = Message.objects.all()
    serializer_class = MessageSerializer
    resource = "messages"
    resource_actions = {"create": "send"}  # the same action as a reply from the inbox

    def get_queryset(self):
        clicks = _person_clicks(self.request.business)
        queryset = (
            super()
            .get_queryset()
            .select_related("sender_number")
            .prefetch_related(Prefetch("clicks", queryset=clicks, to_attr="person_clicks"))
        )
        if self.action != "list":
            return queryset
        phone = phone_filter(self.request)
        if phone:
            queryset = queryset.filter(phone_number=phone)
        campaign = self.request.query_params.get("campaign")
        if campaign is not None:
            if not (campaign.isascii() and campaign.isdigit()):  # str.isdigit() alone accepts '²', which int() refuses
                raise exceptions.ValidationError({"campaign": ["Give a campaign id (an integer)."]})
            # On the pk, not campaign_id: an id beyond the column's range then finds nothing instead of overflowing.
            queryset = queryset.filter(campaign__pk=int(campaign))
        for name, choices in (("direction", Message.Direction.values), ("status", Message.Status.values)):
            value = choice_filter(self.request, name, choices)
            if value:
                queryset = queryset.filter(**{name: value})
        return queryset

    def create(self, request, *args, **kwargs):
        data = TransactionalMessageSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        try:
            message = messaging_services.transactional_send(business=request.business, **data.validated_data)
        except messaging_services.SendRefused as exc:
            raise exceptions.ValidationError({"to": [str(exc)]}) from exc
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
