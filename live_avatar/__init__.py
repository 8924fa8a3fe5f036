"""live-avatar: bring a still portrait to life from a webcam, in real time."""

__version__ = "0.1.0"
