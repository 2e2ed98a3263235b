"""Text classification: ``labeled_text`` datasets in, one ``limelight.text/1`` ``.npz`` artifact out.

Modules: ``data`` (loading, labels, the stratified split), ``evaluation`` (accuracy, macro-F1,
per-class scores, confusion matrix, reliability bins + ECE), ``calibration`` (temperature scaling,
per-label sigmoid calibration and thresholds), ``tfidf`` / ``embedding_head`` (the scorers),
``finetune`` / ``onnx_scorer`` (fine-tuning MiniLM, scoring its ONNX export),
``artifact`` (the file layout), ``model`` (calibrated predictions), ``training`` (the pipeline the
``classify-text/*`` recipes share), ``runtime`` (serving) and ``verbs`` (``:classify``).
"""
