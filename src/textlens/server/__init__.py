"""The REST API: a FastAPI app over the same library calls as the CLI."""

from textlens.server.app import create_app
from textlens.server.state import ServerSettings

__all__ = ["ServerSettings", "create_app"]
