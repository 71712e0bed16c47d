"""``python -m textlens`` runs the CLI."""

from textlens.cli import run

run()
