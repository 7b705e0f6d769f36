"""Simulator routes (being written): registered by :meth:`.routes.ProviderRoutes.add_to`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .routes import ProviderRoutes

__all__ = ["add_routes"]


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add this module's routes to ``app``."""
