"""Failed sign-in counters, shared by every API process through the database (when no Redis)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base


class LoginFailure(Base):
    __tablename__ = "login_failures"
    # "account:<sha256 of the username>" or "address:<client address>"; never a password
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[float] = mapped_column(Float)  # epoch seconds
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)  # epoch seconds
