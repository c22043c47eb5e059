"""Cortex cortex package."""
