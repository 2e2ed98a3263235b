"""Online experiments: traffic split between a model's aliases, outcomes attributed per variant, decided by a fixed-horizon test."""
