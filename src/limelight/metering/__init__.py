"""Usage of an org: inference requests and errors per model, compute seconds of jobs, storage."""
