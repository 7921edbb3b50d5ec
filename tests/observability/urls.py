"""The product's URLs plus a view that fails, for the error-tracking tests."""

from django.urls import path

from nextalerts.urls import urlpatterns as product_urlpatterns


def failing_view(request):
    phone = "+12025550143"  # a local variable of the failing frame: Sentry sends those
    raise RuntimeError(f"could not text {phone}")


urlpatterns = [path("test-failure/", failing_view), *product_urlpatterns]
