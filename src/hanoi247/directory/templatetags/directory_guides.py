"""``{% load directory_guides %}``: the tags of ``hanoi247.directory.guides``."""

from hanoi247.directory.guides import register

__all__ = ["register"]
