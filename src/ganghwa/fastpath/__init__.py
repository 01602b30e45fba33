"""The CPU fast path: hand-written backward, numpy acting and the fused optimizer step."""
