"""The search space: token grammars, the SNAP language and block drawings. Torch-free, so
parsing, identity and sampling are cheap everywhere (proposer, DAG building, tests)."""
