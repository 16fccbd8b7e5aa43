"""Benchmarks: run each as a script (`make bench`); none of them is a test."""
