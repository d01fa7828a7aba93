"""rnnc: a multi-level compiler, on xDSL, for RNN inference on a Plasticine-style spatial
accelerator."""
