"""A found network out of the search: exported files and pose estimation on new images."""
