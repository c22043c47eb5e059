"""Cortex tui package."""
