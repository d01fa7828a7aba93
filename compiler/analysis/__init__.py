"""Analyses of loop programs: access relations, the program view the cost model reads,
statistics, and argument/result names."""
