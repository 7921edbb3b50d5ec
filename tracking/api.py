"""/api/v1/qr-codes/: a business's QR codes with their scans and opt-ins, and each code as a PNG or SVG image."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.reverse import reverse

from nextalerts.api import BusinessViewSet
from subscribers.api import BusinessNumberField
from subscribers.models import Keyword

from . import selectors, services
from .models import QRCode


@extend_schema_field(OpenApiTypes.INT)
class BusinessKeywordField(serializers.PrimaryKeyRelatedField):
    """A keyword id, looked up inside the request's business only."""

    default_error_messages = {
        "does_not_exist": "No keyword with id {pk_value} in your business; list yours at /api/v1/keywords/.",
        "incorrect_type": "Give the keyword's id (an integer) from /api/v1/keywords/.",
    }

    def get_queryset(self):
        return Keyword.objects.filter(business=self.context["business"]).select_related("number")


class QRCodeListSerializer(serializers.ListSerializer):
    """Counts the scans and opt-ins of a whole page at once, instead of two queries per code."""

    def to_representation(self, data):
        codes = list(data.all() if hasattr(data, "all") else data)
        self.stats = selectors.qr_code_stats(qr_codes=codes)
        return super().to_representation(codes)


class QRCodeSerializer(serializers.ModelSerializer):
    number = BusinessNumberField()
    keyword = BusinessKeywordField()
    keyword_text = serializers.CharField(source="keyword.keyword", read_only=True)
    prefilled_body = serializers.CharField(read_only=True, help_text='What the scan prefills, e.g. "JOIN Q7K2".')
    url = serializers.SerializerMethodField(help_text="What the code encodes: PUBLIC_BASE_URL/q/<slug>.")
    scans = serializers.SerializerMethodField(help_text="Scans by people; link previews and crawlers not counted.")
    opt_ins = serializers.SerializerMethodField(help_text="Distinct phones that opted in by texting this code's body.")
    conversion_rate = serializers.SerializerMethodField(help_text="opt_ins / scans; null before the first scan.")
    image_svg_url = serializers.SerializerMethodField()
    image_png_url = serializers.SerializerMethodField()

    class Meta:
        model = QRCode
        list_serializer_class = QRCodeListSerializer
        fields = [
            "id", "label", "number", "keyword", "keyword_text", "ref", "prefilled_body", "url", "is_active",
            "scans", "opt_ins", "conversion_rate", "created_at", "image_svg_url", "image_png_url",
        ]  # fmt: skip
        read_only_fields = ["id", "ref", "created_at"]

    def _stats(self, code) -> selectors.QRCodeStats:
        bulk = getattr(self.parent, "stats", None)
        if bulk is not None:
            return bulk[code.pk]
        if getattr(self, "_single", (None,))[0] != code.pk:
            self._single = (code.pk, selectors.qr_code_stats(qr_codes=[code])[code.pk])
        return self._single[1]

    def get_url(self, code) -> str:
        return selectors.qr_code_url(code)

    def get_scans(self, code) -> int:
        return self._stats(code).scans

    def get_opt_ins(self, code) -> int:
        return self._stats(code).opt_ins

    def get_conversion_rate(self, code) -> float | None:
        return self._stats(code).conversion_rate

    def _image_url(self, code, name):
        # The file-like address without the router's trailing slash (nextalerts/urls.py routes both).
        return reverse(f"qr-code-{name}-file", args=[code.pk], request=self.context.get("request"))

    def get_image_svg_url(self, code) -> str:
        return self._image_url(code, "image-svg")

    def get_image_png_url(self, code) -> str:
        return self._image_url(code, "image-png")


SIZE_PARAMETER = OpenApiParameter(
    "size",
    {"type": "integer", "minimum": selectors.MIN_SIZE, "maximum": selectors.MAX_SIZE},
    description=f"Width and height in pixels, {selectors.MIN_SIZE} to {selectors.MAX_SIZE} "
    f"(default {selectors.DEFAULT_SIZE}); a PNG comes as close as whole pixels per module allow.",
)


def _image_schema(media_type):
    return extend_schema(
        parameters=[SIZE_PARAMETER],
        responses={(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The code's image.")},
    )


class QRCodeViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    BusinessViewSet,
):
    """QR codes that open the consumer's messaging app with "<KEYWORD> <ref>" prefilled; their text is the opt-in."""

    queryset = QRCode.objects.all()
    serializer_class = QRCodeSerializer
    resource = "qr_codes"
    resource_actions = {"image_svg": "view", "image_png": "view"}  # members download the images
    image_actions = ("image_svg", "image_png")

    def get_queryset(self):
        return super().get_queryset().select_related("number", "keyword")

    def perform_content_negotiation(self, request, force=False):
        # The images answer whatever the client accepts (browsers and <img> send image/*); their errors are JSON.
        return super().perform_content_negotiation(request, force=force or self.action in self.image_actions)

    def perform_create(self, serializer):
        serializer.instance = services.qr_code_create(business=self.request.business, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.qr_code_update(instance=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.qr_code_delete(instance=instance)

    def _size(self) -> int:
        raw = self.request.query_params.get("size")
        if raw is None:
            return selectors.DEFAULT_SIZE
        low, high = selectors.MIN_SIZE, selectors.MAX_SIZE
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            message = f"Give the size in pixels, a whole number from {low} to {high}."
            raise exceptions.ValidationError({"size": [message]})
        return int(raw)

    @staticmethod
    def _image(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
        # A plain Django response: DRF's renderers only know JSON here, and the bytes need no rendering.
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        response["Cache-Control"] = "private, max-age=300"
        return response

    @_image_schema("image/svg+xml")
    @action(detail=True, methods=["get"], url_path=r"image\.svg", url_name="image-svg")
    def image_svg(self, request, pk=None):
        """The code as an SVG, for print: scales to any size without blurring."""
        code = self.get_object()  # first: another business's code is a 404 whatever the size asked
        svg = selectors.qr_code_svg(qr_code=code, size=self._size())
        return self._image(svg, content_type="image/svg+xml", filename=f"qr-code-{code.pk}.svg")

    @_image_schema("image/png")
    @action(detail=True, methods=["get"], url_path=r"image\.png", url_name="image-png")
    def image_png(self, request, pk=None):
        """The code as a PNG, for screens and quick printing."""
        code = self.get_object()
        png = selectors.qr_code_png(qr_code=code, size=self._size())
        return self._image(png, content_type="image/png", filename=f"qr-code-{code.pk}.png")
