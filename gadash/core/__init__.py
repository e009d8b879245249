"""What is asked and what it means: the report catalog, queries, both URL grammars,
the answers' frames, pure transforms and insights. No I/O, no Flask or Dash."""
