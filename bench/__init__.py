"""Benchmark and soak harness for kinvey-gateway (run on demand, see bench/README.md)."""
