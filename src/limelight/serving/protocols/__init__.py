"""Wire protocols over the serving engine: native v1 REST, KServe v2 REST and gRPC."""
