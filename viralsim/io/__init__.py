"""File input and output: the only layer (with the CLI) that touches the filesystem."""

__all__: list[str] = []
