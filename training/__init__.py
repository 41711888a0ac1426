"""Training entry points: experiments, sweeps and GPU allocation."""
