"""Behaviour prediction: who is about to leave (churn) or act (next action), with the reasons.

Features come from a user's event history before a cutoff (``features``), labels from the horizon
after it (``snapshots``); LightGBM plus a calibration fitted on held-out users (``training``); one
``.npz`` artifact holding the model, the calibration and the training history (``artifact``); the
``behaviour`` runtime recomputes the same features at request time from that history plus live
events (``runtime``) and answers ``:predict`` and ``:score`` (``verbs``).
"""
