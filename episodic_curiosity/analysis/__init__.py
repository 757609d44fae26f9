"""Looking at results: reward curves and Table 1 from run directories, videos, evaluation data."""
