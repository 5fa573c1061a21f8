"""Package discovery for the two import roots.

The folders are named after the data flow (``styleclip_dsl/``, ``grammar/``,
``runtime/``); the import names are ``styleclip_dsl``, ``styleclip_dsl.grammar``
and ``styleclip_runtime``. Everything else lives in pyproject.toml.
"""
from setuptools import find_packages, setup

packages = ["styleclip_dsl.grammar"]
packages += [p for p in find_packages(".", include=["styleclip_dsl", "styleclip_dsl.*"])]
packages += ["styleclip_runtime"] + [
    "styleclip_runtime." + p for p in find_packages("runtime")
]

setup(packages=packages)
