"""Package discovery for setuptools; everything else lives in pyproject.toml.

``labelgraph/`` is found with :func:`setuptools.find_packages` (a new sub-package is picked
up without editing a list), and the click front end in ``cli/`` is installed under the
import name ``labelgraph_cli``.  ``pyproject.toml`` cannot express that mapping together
with discovery, hence this file.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["labelgraph", "labelgraph.*"]) + ["labelgraph_cli"],
    package_dir={"labelgraph_cli": "cli"},
)
