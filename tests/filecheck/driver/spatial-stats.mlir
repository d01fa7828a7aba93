// rnnc --stats on a placed and routed design: units against sites, ports, link use per
// network against links_per_switch, the longest route in hops and cycles.
// RUN: rnnc %S/../transforms/Inputs/strip_routed.mlir --stats --arch %S/../transforms/Inputs/strip.json | filecheck %s
// RUN: rnnc %S/../transforms/Inputs/strip_design.mlir --stats --arch %S/../transforms/Inputs/strip.json | filecheck %s --check-prefix=LOGICAL

// CHECK:      == spatial ==
// CHECK-NEXT:   units                     2/2 PCUs, 4/4 PMUs, 2/4 AGs (8 of 8 placed)
// CHECK-NEXT:   streams                   10 (10 routed)
// CHECK-NEXT:   scalar  network           3 streams, 3 sinks; ports in 3/36, out 3/12 (busiest inputs: b 3/6)
// CHECK-NEXT:             links           4/38 switch-to-switch links used, at most 2 of 2 tracks (100%)
// CHECK-NEXT:   vector  network           6 streams, 7 sinks; ports in 7/20, out 6/12 (busiest inputs: y_out 1/1)
// CHECK-NEXT:             links           3/38 switch-to-switch links used, at most 1 of 2 tracks (50%)
// CHECK-NEXT:   control network           1 stream, 1 sink; ports in 1/26, out 1/26 (busiest inputs: a 1/4)
// CHECK-NEXT:             links           2/38 switch-to-switch links used, at most 1 of 2 tracks (50%)
// CHECK-NEXT:   longest route             3 hops (3 cycles, stream s2)

// LOGICAL:      units                     2/2 PCUs, 4/4 PMUs, 2/4 AGs (0 of 8 placed)
// LOGICAL-NEXT: streams                   10 (0 routed)
// LOGICAL:      longest route             0 hops (0 cycles)
