"""Portal server: the REST API behind Portal Desk (see ../shared/spec/api.md)."""

__version__ = "0.1.0"
API_VERSION = "1"
