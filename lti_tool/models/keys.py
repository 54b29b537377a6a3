"""The tool's own RSA signing keys (published at /lti/jwks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ToolKey(Base):
    """A signing key. The newest active key signs; retired keys stay published until
    `retire_at` so that platforms holding a cached key set can still verify."""

    __tablename__ = "tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None while the key signs; set at rotation: published until then, deleted after.
    retire_at: Mapped[datetime | None] = mapped_column(default=None)
