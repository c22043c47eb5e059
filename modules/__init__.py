"""Cortex modules package."""
