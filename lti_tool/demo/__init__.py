"""Development-only demo LMS: launches the tool through the real OIDC + signed JWT path."""
