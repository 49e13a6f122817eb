"""Monitoring reports for the board and the regulator."""
