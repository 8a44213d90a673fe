"""The Typer command line. Nothing here imports jax at module level: `--help` is instant."""
