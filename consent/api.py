"""/api/v1/consent-events/ (the ledger, read-only) and /api/v1/suppressions/ (the do-not-text list)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers

from nextalerts.api import BusinessViewSet, phone_filter
from nextalerts.phones import InvalidPhoneNumber, phone_hash, to_e164

from . import services
from .models import ConsentEvent, Suppression

PHONE_FILTER = OpenApiParameter("phone_number", OpenApiTypes.STR, description="E.164, e.g. +12025550123")


class ConsentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentEvent
        fields = ["id", "phone_number", "kind", "method", "occurred_at", "evidence", "sequence", "row_hash"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(parameters=[PHONE_FILTER]))
class ConsentEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BusinessViewSet):
    queryset = ConsentEvent.objects.all()
    serializer_class = ConsentEventSerializer
    resource = "consent_events"

    def get_queryset(self):
        queryset = super().get_queryset()
        phone = phone_filter(self.request) if self.action == "list" else None
        # Matched by hash, so events whose number was later erased still belong to the same consumer.
        return queryset.filter(phone_hash=phone_hash(phone)) if phone else queryset


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["id", "phone_number", "reason", "created_at"]
        read_only_fields = ["id", "reason", "created_at"]
        extra_kwargs = {"phone_number": {"required": True, "allow_blank": False}}

    def validate_phone_number(self, value):
        try:
            return to_e164(value)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(str(exc)) from exc


@extend_schema_view(list=extend_schema(parameters=[PHONE_FILTER]))
class SuppressionViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, BusinessViewSet
):
    """A business may add numbers to its do-not-text list and remove its own entries; a consumer's STOP stays."""

    queryset = Suppression.objects.all()
    serializer_class = SuppressionSerializer
    resource = "suppressions"

    def get_queryset(self):
        queryset = super().get_queryset()
        phone = phone_filter(self.request) if self.action == "list" else None
        return queryset.filter(phone_hash=phone_hash(phone)) if phone else queryset

    def perform_create(self, serializer):
        serializer.instance = services.suppression_add_manual(
            business=self.request.business,
            phone=serializer.validated_data["phone_number"],
            user=self.request.user,
            request=self.request,
        )

    def perform_destroy(self, instance):
        try:
            services.suppression_remove_manual(suppression=instance, user=self.request.user, request=self.request)
        except services.SuppressionNotRemovable as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
