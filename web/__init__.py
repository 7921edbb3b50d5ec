"""The dashboard's pages that need several apps: they sit in a layer above the apps, so no app imports another one
above it to draw a page. Today: the overview, the compliance pages (the consent ledger, the do-not-text list, the
evidence export) and the phone simulator."""
