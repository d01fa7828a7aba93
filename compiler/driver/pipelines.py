"""The pass pipelines the driver runs, defined once: the commands, the multi-chip
compile, the bench's design points and the studies name them from here."""

#: The passes from the loop level down to a placed, routed and verified spatial design
#: with its prediction.
SPATIAL_PIPELINE = ("spatial-partition,spatial-post-writes,spatial-swap-start,spatial-place,"
                    "spatial-route,spatial-swap-choose,spatial-verify,spatial-predict")
#: The default pipeline to a configuration; the search's point is searched again until it
#: partitions, places and routes (`rnnc.driver.routable`).
#: The work known at compile time taken out of a loop program: a zero initial state, nests
#: that read weights alone.
COMPILE_TIME_WORK = "loop-zero-init,loop-fold-constants"
#: From the rnn level to the fused loop level (and to the decomposed one, without fusion).
LOOP_PIPELINE = f"rnn-decompose,loop-fuse,{COMPILE_TIME_WORK}"
DECOMPOSED_LOOP_PIPELINE = f"rnn-decompose,{COMPILE_TIME_WORK}"
CONFIG_PIPELINE = f"{LOOP_PIPELINE},loop-assign-resources,{SPATIAL_PIPELINE}"
