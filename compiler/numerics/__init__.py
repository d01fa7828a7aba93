"""Numerics: precision modes and their emulation (the paper's mixed 8/16/32-bit mode)."""
