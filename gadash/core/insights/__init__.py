"""What the numbers say: the statistical rules (``rules``: usual days, bands, spikes)
and the findings built on them (``findings``: what changed, trending pages)."""
