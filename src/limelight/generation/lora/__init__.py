"""LoRA fine-tuning of a GGUF language model on a studio's own texts, written back as GGUF.

``base_model`` loads the base weights and tokenizer from the GGUF file with transformers (which
dequantizes them), ``corpus`` packs texts into fixed-length blocks, ``training`` fits LoRA adapters
with peft under a time budget, and ``export`` merges them and writes a GGUF that llama.cpp serves
like the base: same metadata and tensor names, only the tensors LoRA touched rewritten.
"""
