"""Networks: SNAPNet, the hand-designed baselines, and building one from an architecture."""
