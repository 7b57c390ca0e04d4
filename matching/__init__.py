"""EBO host matching: the `ebo-match/1` instance, its exact solver and its checks."""

from matching.model import solve

__all__ = ["solve"]
