"""`make bench`: the send pipeline's throughput and the STOP path's latency, each against a baseline measured in the
same run (see README, "Performance"). Start with `python -m benchmarks.run --help`."""
