"""``Operation``: Keras's base class of ops. A subclass defines ``call`` (and, for symbolic
use, ``compute_output_spec``); calling the operation runs ``call`` on Tensors."""

from __future__ import annotations


class Operation:
    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define compute_output_spec()")

    def symbolic_call(self, *args, **kwargs):
        return self.compute_output_spec(*args, **kwargs)

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
