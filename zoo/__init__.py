"""styleclip_zoo: building and training the model sets the project ships (currently ``toon``).

Training lives here, apart from serving: this package imports ``styleclip_runtime`` (its
networks, loaders and engines) and the runtime never imports it. ``styleclip zoo build``
and ``python -m styleclip_zoo.toon.<trainer>`` are its entry points.
"""
