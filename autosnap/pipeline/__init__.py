"""The stages the workflow's rules call (and the CLI with them): data in, a search's
rounds, the final comparison, the report and how a search stands."""
