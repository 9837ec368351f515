"""The request handler: every request on the proxy listener takes one path through it."""
