"""Dashboard pages (filled in by the dashboard work)."""

urlpatterns = []
