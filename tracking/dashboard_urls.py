"""Dashboard pages for QR codes, under /app/qr-codes/ in the "dashboard" namespace."""

from django.urls import path

from . import dashboard

urlpatterns = [
    path("qr-codes/", dashboard.qr_code_list, name="qr-codes"),
    path("qr-codes/new/", dashboard.qr_code_create, name="qr-code-create"),
    path("qr-codes/<int:pk>/", dashboard.qr_code_detail, name="qr-code"),
    path("qr-codes/<int:pk>/edit/", dashboard.qr_code_edit, name="qr-code-edit"),
    path("qr-codes/<int:pk>/delete/", dashboard.qr_code_delete, name="qr-code-delete"),
    path("qr-codes/<int:pk>/download.svg", dashboard.qr_code_svg, name="qr-code-svg"),
    path("qr-codes/<int:pk>/download.png", dashboard.qr_code_png, name="qr-code-png"),
]
