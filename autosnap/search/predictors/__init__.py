"""What ranks SNAPs for a strategy: AutoSNAP's auto-encoder with its linear value head
(value_model), the bag-of-symbols control (bag_model) and BANANAS' MLP ensemble
(ensemble), each usable by any strategy."""
