"""Scorecard."""
