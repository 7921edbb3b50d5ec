"""/api/v1/auth/: signup, login, logout."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from nextalerts.http import client_ip
from nextalerts.schema import error_response

from . import services
from .authentication import TokenAuthentication
from .selectors import default_business_for


class BusinessSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    time_zone = serializers.CharField()
    status = serializers.CharField()


class SignupSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    business_name = serializers.CharField(max_length=120)
    support_contact = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,  # the service says what the limit is, in words
        help_text="Sent to anyone who texts HELP: a phone number, email address or web address where customers can "
        "reach the business. Optional here; the dashboard asks for it until it is set.",
    )
    confirm_age = serializers.BooleanField(help_text="Must be true: the person signing up is 18 or older.")
    accept_terms = serializers.BooleanField(help_text="Must be true: the terms of service are accepted.")


class LoginLocked(exceptions.APIException):
    """429 with Retry-After while the log-in lock holds: the dashboard's and the admin's lock too."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked"

    def __init__(self, seconds: int):
        super().__init__(services.login_locked_message(seconds=seconds))
        self.wait = seconds  # DRF's handler sends it as Retry-After


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class AuthThrottled(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class SignupView(AuthThrottled):
    @extend_schema(
        request=SignupSerializer,
        responses={
            201: inline_serializer(
                "SignupResponse",
                {
                    "token": serializers.CharField(),
                    "expiry": serializers.DateTimeField(),
                    "business": BusinessSerializer(),
                },
            )
        },
    )
    def post(self, request):
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user, business = services.user_signup(**data.validated_data)
        except services.SignupError as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from exc
        token, secret = services.api_token_create(user=user, business=business, name="signup", request=request)
        return Response(
            {"token": secret, "expiry": token.expiry, "business": BusinessSerializer(business).data},
            status=status.HTTP_201_CREATED,
        )


class LoginView(AuthThrottled):
    @extend_schema(
        request=LoginSerializer,
        responses={
            200: inline_serializer(
                "LoginResponse",
                {
                    "token": serializers.CharField(),
                    "expiry": serializers.DateTimeField(),
                    "business": BusinessSerializer(),
                },
            ),
            429: error_response(
                "Too many failed log-ins for this email (or from this address) on any door: the dashboard, the API "
                "or the admin. Retry-After says how many seconds the lock has left; the right password is refused "
                "until then. Also sent when the auth endpoints' rate limit is reached."
            ),
        },
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        user = authenticate(request, email=email, password=data.validated_data["password"])
        if user is None:
            remaining = services.login_lock_remaining(email=email, ip=client_ip(request))
            if remaining:
                raise LoginLocked(remaining)
            raise serializers.ValidationError({"non_field_errors": ["Email or password is incorrect."]})
        business = default_business_for(user=user)
        if business is None:
            raise serializers.ValidationError({"non_field_errors": ["This account belongs to no business."]})
        token, secret = services.api_token_create(user=user, business=business, name="login", request=request)
        return Response({"token": secret, "expiry": token.expiry, "business": BusinessSerializer(business).data})


class LogoutView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.api_token_revoke(token=request.auth, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
