"""Audit: who did what, when."""
