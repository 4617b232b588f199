"""The extractive reader: model folder, tokenised windows, the ONNX session and span decoding."""
