"""LTI 1.3 protocol: OIDC login, launch validation, JWKS, registration, deep linking."""
