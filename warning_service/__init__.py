"""The early-warning broadcast service for Garzê and Ngawa.

The package root imports nothing, so the domain packages (CAP parsing, rendering, geography) load
without Flask; the Flask application is built by warning_service.app.create_app().
"""
