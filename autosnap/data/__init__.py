"""The pose-estimation data set: rendering from sim/, importing real images, patches, the
network's input/output encoding, pose recovery and data pictures."""
