"""Development tools (not installed): an in-process moto server, the seeded estates, the demo and the benchmark."""
