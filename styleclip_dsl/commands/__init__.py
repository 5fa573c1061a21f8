"""CLI commands: one module each, attached to the app by ``styleclip_dsl.cli``."""
