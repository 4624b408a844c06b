"""What ranks SNAPs for a strategy: AutoSNAP's auto-encoder with its linear value head
(value_model) and the bag-of-symbols control (bag_model). BANANAS' MLP ensemble still
lives with its strategy (autosnap/search/bananas.py)."""
