"""The bundled demo websites, the local server that serves them, and their sources.toml."""
