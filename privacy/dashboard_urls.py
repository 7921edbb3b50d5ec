"""The customer's own data in Settings: export it, delete the account (filled in by the privacy work)."""

urlpatterns = []
