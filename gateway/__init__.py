"""kinvey-gateway: a reverse proxy that keeps every Kinvey REST API version working."""

__version__ = "0.1.0"
