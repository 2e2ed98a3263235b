"""Tests of the text-classification domain."""
