"""Placeholder; replaced by the supervision tree."""
