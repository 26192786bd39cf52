"""Column summaries and the statistics computed from them."""
