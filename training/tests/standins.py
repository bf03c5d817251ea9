"""Moved to the top-level standins package (standins.replicate, standins.hub).

Only training/tests/test_replicate.py and generation/tests/test_replicate.py still import this
name; delete this module once they import standins.replicate.
"""

from standins.replicate import lora_tar, sign, start_replicate_standin

__all__ = ["lora_tar", "sign", "start_replicate_standin"]
