"""Dtype policies (``keras.dtype_policies``): float policies by name. Quantized policies
(int8, int4, float8, GPTQ, AWQ) are not provided: quantization needs a compiled backend."""

from __future__ import annotations

from .config import DTypePolicy, dtype_policy, set_dtype_policy

FloatDTypePolicy = DTypePolicy


class DTypePolicyMap(dict):
    """Policies by layer path, with a default for paths not in the map."""

    def __init__(self, default_policy=None, policy_map=None):
        super().__init__(policy_map or {})
        self.default_policy = get(default_policy)

    def __missing__(self, key):
        return self.default_policy


def get(identifier):
    """A DTypePolicy from a name, a config or a policy (None: the global policy)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return DTypePolicy(**identifier.get("config", identifier))
    return DTypePolicy(identifier)


def serialize(policy):
    return {"class_name": "DTypePolicy", "config": policy.get_config()}


def deserialize(config, custom_objects=None):
    return get(config)


__all__ = [
    "DTypePolicy",
    "DTypePolicyMap",
    "FloatDTypePolicy",
    "deserialize",
    "get",
    "serialize",
    "set_dtype_policy",
]
