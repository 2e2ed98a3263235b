"""Text classification: fine-tuning, ONNX scoring, recipes and verbs."""
