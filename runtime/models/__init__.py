"""Networks and their checkpoint loaders."""
