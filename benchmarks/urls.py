"""The product's URLs, plus /bench/noop/: the same request through the same server and middleware, doing nothing."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from nextalerts.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def noop(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [*product_urlpatterns, path("bench/noop/", noop, name="bench-noop")]
