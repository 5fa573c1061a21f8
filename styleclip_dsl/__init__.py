"""styleclip-dsl: the recipe language (importable without torch)."""
__version__ = "0.1.0"

# The notebook / Python API (styleclip_dsl.notebook), imported on first use so that
# `import styleclip_dsl` loads neither torch nor the runtime.
_LAZY = {"Session": "notebook", "Result": "notebook", "RecipeError": "notebook", "TrainingRequired": "notebook"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
