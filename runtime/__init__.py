"""styleclip-dsl runtime: executor, engines, models and cache (needs torch)."""
