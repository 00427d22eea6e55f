"""CRM operations that BPMN service tasks may call (registered into the engine by the app factory)."""

from __future__ import annotations

from engine.services import ServiceRegistry


def register(registry: ServiceRegistry) -> None:
    """Register the CRM operations."""
