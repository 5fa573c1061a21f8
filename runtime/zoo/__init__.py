"""Embedded model sets that the project builds itself (currently only ``toon``)."""
