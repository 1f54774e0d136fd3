"""The ``labelgraph`` command line (installed under the import name ``labelgraph_cli``)."""
