"""Processes: start or attach Ray, place the regions, supervise them, report."""
