"""Billing pages in Settings (filled in by the billing work)."""

urlpatterns = []
