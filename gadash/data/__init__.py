"""GA's answers, cached: the data service, the GA4 adapter, share counts, the shared
cache with single-flight refreshes, and the Prometheus counters of their calls. Knows no
screen and no Flask."""
