"""styleclip-dsl: the recipe language (importable without torch)."""
__version__ = "0.1.0"
