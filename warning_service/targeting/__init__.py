"""Turning an alert's CAP areas into the counties and townships it reaches."""
