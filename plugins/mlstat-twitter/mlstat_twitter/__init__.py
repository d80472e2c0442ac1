"""mlstat plugin: tweet sentiment and a bias-corrected sentiment index."""

__version__ = "0.1.0"
