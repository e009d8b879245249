"""Threads beside requests: the warmer (keeps polled queries fresh), the alert watch and
the alert webhook."""
