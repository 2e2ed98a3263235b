"""Housekeeping that keeps a long-running install's disk use bounded: the garbage collector."""
