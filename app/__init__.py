"""Portal Desk desktop client."""

__version__ = "0.1.0"
