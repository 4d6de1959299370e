"""Adapters for the libraries data teams already run: ``batches`` (Hugging Face ``datasets``
``map(batched=True)``, Ray Data ``map_batches``) and ``datatrove`` (a ``PipelineStep``)."""
