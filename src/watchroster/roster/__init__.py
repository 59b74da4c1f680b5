"""The roster: who is on which shift over the coming days, the gaps, N of M filled, CSV and print."""
