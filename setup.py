"""Package discovery for the three import roots.

The folders are named after the data flow (``styleclip_dsl/``, ``grammar/``,
``runtime/``, ``zoo/``); the import names are ``styleclip_dsl``, ``styleclip_dsl.grammar``,
``styleclip_runtime`` and ``styleclip_zoo``. Everything else lives in pyproject.toml.
"""
from setuptools import find_packages, setup

packages = ["styleclip_dsl.grammar"]
packages += [p for p in find_packages(".", include=["styleclip_dsl", "styleclip_dsl.*"])]
packages += ["styleclip_runtime"] + [
    "styleclip_runtime." + p for p in find_packages("runtime")
]
packages += ["styleclip_zoo"] + ["styleclip_zoo." + p for p in find_packages("zoo")]

setup(packages=packages)
