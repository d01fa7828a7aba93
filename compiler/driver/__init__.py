"""The driver: the `rnnc` command line, pass pipelines, file input/output and diagnostics."""
