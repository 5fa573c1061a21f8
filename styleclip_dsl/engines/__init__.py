"""The engines as the front end knows them: one torch-free spec per engine (``spec.EngineSpec``),
gathered in ``registry.ENGINES``. Their implementations are the runtime's ``engines/<engine>/``."""
