"""grader: generate, render and grade exam and exercise material for a deep-learning course."""

__version__ = "0.1.0"
