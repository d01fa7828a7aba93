// spatial-place with the `timing-placement` schedule (on by default) weighs each stream by
// its criticality on the step's longest path and keeps the best of several seeds. On the
// 1x6 strip (Inputs/strip.json, controller at switch (1, 3)) the step's longest path ends
// with @y_out's done token: timing puts the store on the edge switch of the controller's
// row (4 switches back to it) where the wire-length placer alone puts it one row off (5).
// With the schedule switched off the placement is the wire-length placer's, byte for byte.
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place' | filecheck %s --check-prefix=TIMED
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place{schedules=timing-placement}' | filecheck %s --check-prefix=TIMED
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json --schedules all -p 'spatial-place' | filecheck %s --check-prefix=TIMED
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place{schedules=none}' | filecheck %s --check-prefix=PLAIN
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json --schedules none -p 'spatial-place' | filecheck %s --check-prefix=PLAIN
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place' > %t.first
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place' | diff - %t.first
// RUN: not rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place{schedules=bogus}' 2>&1 | filecheck %s --check-prefix=ERR

// TIMED: spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5)
// TIMED-NEXT: spatial.ag @y_out right store "y" at (1, 6)

// PLAIN: spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5)
// PLAIN-NEXT: spatial.ag @y_out right store "y" at (0, 6)

// ERR: strip_design.mlir: error: spatial-place: schedules: unknown schedule 'bogus' (known: {{.*}}timing-placement{{.*}})
