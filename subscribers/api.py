"""/api/v1/numbers/, /api/v1/keywords/, /api/v1/subscribers/."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status

from nextalerts.api import BusinessViewSet, choice_filter, phone_filter
from nextalerts.schema import error_response

from . import services
from .models import Keyword, SenderNumber, Subscriber


@extend_schema_field(OpenApiTypes.INT)
class BusinessNumberField(serializers.PrimaryKeyRelatedField):
    """A sender number id, looked up inside the request's business only."""

    default_error_messages = {
        "does_not_exist": "No number with id {pk_value} in your business; list yours at /api/v1/numbers/.",
        "incorrect_type": "Give the number's id (an integer) from /api/v1/numbers/.",
    }

    def get_queryset(self):
        return SenderNumber.objects.filter(business=self.context["business"])


RATE_MESSAGE = "Use a rate between 1 and 1000 messages per second."


class NumberSerializer(serializers.ModelSerializer):
    class Meta:
        model = SenderNumber
        fields = ["id", "phone_number", "messaging_profile_id", "messages_per_second", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            "phone_number": {"validators": []},
            # The bounds also go into the schema.
            "messages_per_second": {
                "min_value": 1,
                "max_value": 1000,
                "error_messages": {"min_value": RATE_MESSAGE, "max_value": RATE_MESSAGE},
            },
        }


class NumberCheckUnavailable(exceptions.APIException):
    """Telnyx could not say whether the platform owns the number: try again later (Retry-After), nothing was added."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    wait = 60  # seconds, sent as Retry-After


@extend_schema_view(
    create=extend_schema(
        responses={
            201: NumberSerializer,
            503: error_response(
                "Telnyx could not be asked whether the platform's account owns the number: nothing was added; try "
                "again after Retry-After seconds."
            ),
        }
    )
)
class NumberViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, BusinessViewSet
):
    queryset = SenderNumber.objects.all()
    serializer_class = NumberSerializer
    resource = "numbers"

    def perform_create(self, serializer):
        try:
            serializer.instance = services.number_create(business=self.request.business, **serializer.validated_data)
        except services.NumberCheckUnavailable as exc:
            raise NumberCheckUnavailable(str(exc)) from exc


class KeywordSerializer(serializers.ModelSerializer):
    number = BusinessNumberField()

    class Meta:
        model = Keyword
        fields = ["id", "keyword", "number", "confirmation_text", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]


class KeywordViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    BusinessViewSet,
):
    queryset = Keyword.objects.all()
    serializer_class = KeywordSerializer
    resource = "keywords"

    def get_queryset(self):
        return super().get_queryset().select_related("number")

    def perform_create(self, serializer):
        serializer.instance = services.keyword_create(business=self.request.business, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.keyword_update(instance=serializer.instance, **serializer.validated_data)


class TagNamesField(serializers.ListField):
    """Tag names in and out; the model side is a many-to-many manager, not a list."""

    child = serializers.CharField(max_length=50)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]


class SubscriberSerializer(serializers.ModelSerializer):
    tags = TagNamesField(required=False, help_text="Tag names; replaced as a whole.")

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "phone_number",
            "status",
            "opt_in_method",
            "opted_in_at",
            "opted_out_at",
            "name",
            "email",
            "notes",
            "tags",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "phone_number",
            "status",
            "opt_in_method",
            "opted_in_at",
            "opted_out_at",
            "created_at",
        ]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("phone_number", OpenApiTypes.STR, description="E.164, e.g. +12025550123"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Subscriber.Status.values),
        ]
    )
)
class SubscriberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, BusinessViewSet):
    """Subscribers are read here and annotated by the business; only the consumer's own text subscribes them."""

    queryset = Subscriber.objects.all()
    serializer_class = SubscriberSerializer
    resource = "subscribers"

    def get_queryset(self):
        queryset = super().get_queryset().prefetch_related("tags")
        if self.action == "list":
            phone = phone_filter(self.request)
            if phone:
                queryset = queryset.filter(phone_number=phone)
            status = choice_filter(self.request, "status", Subscriber.Status.values)
            if status:
                queryset = queryset.filter(status=status)
        return queryset

    def perform_update(self, serializer):
        serializer.instance = services.subscriber_update(subscriber=serializer.instance, **serializer.validated_data)
