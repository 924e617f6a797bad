"""Which packages the distribution holds, and where their sources are.

``cbp`` is built from ``cbp/``; its entry points (the command line, the WSGI
app, the workers) from ``entrypoints/`` at the top of the repository,
installed as ``cbp.entrypoints``. No top-level ``entrypoints`` is installed.
The rest of the project's metadata is in pyproject.toml.
"""

from setuptools import find_packages, setup

ENTRYPOINTS = ["cbp.entrypoints", *(f"cbp.entrypoints.{p}" for p in find_packages("entrypoints"))]

setup(
    packages=[*find_packages(include=["cbp", "cbp.*"]), *ENTRYPOINTS],
    package_dir={"cbp.entrypoints": "entrypoints"},
)
