"""The search: its config, the history of trained children, the value model and the
strategies that propose new architectures."""
