"""The content-addressed result cache, its keys, its store, and the output cache."""
