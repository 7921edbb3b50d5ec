"""Development and test only: the fake provider servers, their commands and the phone simulator's signing key.

Installed by the local and test settings, never by production's; the production image leaves this folder out."""
