"""autosnap: neural architecture search with SNAPs for X-ray instrument pose estimation."""

__version__ = "0.1.0"
