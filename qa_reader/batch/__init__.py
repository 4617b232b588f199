"""Batch questions over many documents (`qa-reader batch`): one per-document step, run in-process on the local
engine or spread over a Ray cluster (the `[scale]` extra), written as resumable Parquet or JSON Lines parts.

Nothing here imports Ray except `qa_reader.batch.cluster`, and nothing imports that module but the command
line and the benchmark, which do so only when asked for Ray.
"""
