"""The roster: who is on which shift in the coming days, the gaps, N of M filled, CSV, print."""
