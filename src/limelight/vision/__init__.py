"""Image classification: transfer learning from packaged ImageNet weights, served with onnxruntime."""
