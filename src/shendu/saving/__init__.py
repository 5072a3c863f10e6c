"""Saving and loading models; the registry of custom classes."""

from ..naming import get_registered_object, register_serializable

__all__ = ["get_registered_object", "register_serializable"]
