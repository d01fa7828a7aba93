"""The target: the architecture model and its presets, the cost model and the design-space
search."""
