// The default spatial pipeline (--emit=spatial: rnn-decompose, loop-fuse,
// loop-assign-resources, spatial-partition, spatial-place, spatial-route, spatial-verify,
// the search run again by the driver while its point does not fit) hands back a placed and
// routed design, records the search's retries,
// and --stats reports its units, ports, links and longest route.
// RUN: rnnc gen lstm 32 2 -o %t.mlir
// RUN: rnnc %t.mlir --emit=spatial > %t.spatial
// RUN: filecheck %s --input-file=%t.spatial
// RUN: rnnc %t.spatial -p spatial-verify | diff - %t.spatial
// RUN: rnnc %t.mlir --emit=spatial --stats | filecheck %s --check-prefix=STATS

// CHECK:      builtin.module attributes {{{.*}}rnnc.retries = {retries = {{[0-4]}} : i64, reasons = [
// CHECK-NEXT:   spatial.design @main #spatial.arch<"plasticine-rnn", "{{[0-9a-f]+}}"> precision "mixed" {
// CHECK:        spatial.pcu @{{[a-z0-9_]+}} {{.*}} at ({{[0-9]+}}, {{[0-9]+}}) {
// CHECK:        spatial.stream @{{[a-z0-9_]+}} {{.*}} paths [(
// CHECK:      } {route_rounds = {

// STATS:      == loop, fused ==
// STATS:      == spatial ==
// STATS:        units                     {{[0-9]+}}/192 PCUs, {{[0-9]+}}/384 PMUs, {{[0-9]+}}/50 AGs ([[UNITS:[0-9]+]] of [[UNITS]] placed)
// STATS-NEXT:   streams                   [[STREAMS:[0-9]+]] ([[STREAMS]] routed)
// STATS-NEXT:   scalar  network
// STATS-NEXT:             links           {{[0-9]+}}/2400 switch-to-switch links used, at most {{[0-4]}} of 4 tracks
// STATS:        longest route             {{[0-9]+}} hops ({{[0-9]+}} cycles, stream
