"""Bundled statistics artifacts (see ``labelgraph.bundled`` and ``data/README.md``)."""
