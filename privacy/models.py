"""Data requests, retention jobs and policy documents."""
