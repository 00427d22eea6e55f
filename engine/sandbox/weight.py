"""placeholder"""
from .meter import Meter


class WeightMeter(Meter):
    """placeholder"""
