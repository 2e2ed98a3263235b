"""ASGI entry for uvicorn (``--factory``): settings come from the environment of each process."""

from __future__ import annotations

from fastapi import FastAPI

from limelight.config import load_settings
from limelight.server.app import create_app


def app_from_env() -> FastAPI:
    return create_app(load_settings())
