"""The pages that need several apps: they sit in a layer above the apps, so that no app imports one above it to draw
a page. The overview, the compliance pages (the consent ledger, the do-not-text list, the evidence export) and the
phone simulator; the subscriber, inbox and number pages; and the public ones: the hosted join form with its double
opt-in, QR scans and tracked links."""
