"""Generated gRPC stubs of the KServe v2 protocol; the source is ``grpc_predict_v2.proto`` here."""
