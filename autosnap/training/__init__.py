"""Child training: the trainer, the runner over a chunk, the child cache, checkpoints and
devices."""
