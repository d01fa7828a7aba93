// spatial-partition builds a nest whose input projection runs a step ahead (the
// `step-ahead` schedule): each reduction over [x(t); h(t-1)] (3 + 4 long) is cut at the
// x/h boundary; x in 2 parts of rv = 2 (0..1, 2) and h in ru = 1 part (3..6). The units
// of the x parts read x from PMUs of their own, role `ahead` (the simulator runs them and
// their loads a step ahead); their partial sums join the h part's in the combining unit.
// RUN: rnnc %S/Inputs/step_ahead.mlir -p 'spatial-partition{precision=fp32}' | filecheck %s
// RUN: rnnc %S/Inputs/step_ahead.mlir -p 'spatial-partition{precision=fp32}' | rnnc - | filecheck %s
// RUN: not rnnc %S/Inputs/step_ahead_no_projection.mlir -p 'spatial-partition{precision=fp32}' 2>&1 | filecheck %s --check-prefix=NONE
// RUN: not rnnc %S/Inputs/step_ahead_negative_parts.mlir -p 'spatial-partition{precision=fp32}' 2>&1 | filecheck %s --check-prefix=PARTS

// CHECK:      spatial.pcu @n0_mr0_s0_p0 map_reduce mode map_reduce "n0" lanes 2
// CHECK:        spatial.segment "r0" 0 to 2 base 0
// CHECK-NEXT: }
// CHECK-NEXT: spatial.pcu @n0_mr0_s0_p1 map_reduce mode map_reduce "n0" lanes 2
// CHECK:        spatial.segment "r0" 2 to 3 base 0
// CHECK-NEXT: }
// CHECK-NEXT: spatial.pcu @n0_mr0_s0_p2 map_reduce mode map_reduce "n0" lanes 2
// CHECK:        spatial.segment "r0" 3 to 7 base 3
// CHECK-NEXT: }
// Three partial sums, one combining unit.
// CHECK-NEXT: spatial.pcu @n0_cb0_l0_0 combine mode elementwise "n0" lanes 1
// CHECK-NEXT:   spatial.in si0
// CHECK-NEXT:   spatial.in si1
// CHECK:        spatial.in si2
// CHECK:      spatial.pcu @n0_ew0_0 elementwise
// The x parts' weight slices and their `ahead` operand PMUs (one step of x, double-buffered).
// CHECK:      spatial.pmu @pmu0 weights strided bytes 32 buffers 1 boxes ["w"[0:1:1, 0:4:1, 0:2:1]]
// CHECK-NEXT: spatial.pmu @pmu1 ahead strided bytes 16 buffers 2 boxes ["x"[0:2:1, 0:1:1, 0:2:1] per_step]
// CHECK-NEXT: spatial.pmu @pmu2 weights strided bytes 32 buffers 1 boxes ["w"[0:1:1, 0:4:1, 2:3:1]]
// CHECK-NEXT: spatial.pmu @pmu3 ahead strided bytes 8 buffers 2 boxes ["x"[0:2:1, 0:1:1, 2:3:1] per_step]
// The h part: R's slice and h (the state, double-buffered), as in the fused form.
// CHECK-NEXT: spatial.pmu @pmu4 weights strided bytes 64 buffers 1 boxes ["r"[0:1:1, 0:4:1, 0:4:1]]
// CHECK-NEXT: spatial.pmu @pmu5 state strided bytes 32 buffers 2 boxes ["h"[0:1:1, 0:1:1, 0:4:1]]
// x is loaded once into both `ahead` PMUs (a multicast).
// CHECK:      spatial.ag @ag1 right load "x"
// The partial sums, then the load of x.
// CHECK:      spatial.stream @s0 scalar @n0_mr0_s0_p0.so0 -> @n0_cb0_l0_0.si0
// CHECK-NEXT: spatial.stream @s1 scalar @n0_mr0_s0_p1.so0 -> @n0_cb0_l0_0.si1
// CHECK-NEXT: spatial.stream @s2 scalar @n0_mr0_s0_p2.so0 -> @n0_cb0_l0_0.si2
// CHECK:      spatial.stream @s{{[0-9]+}} vector @ag1.vo0 -> @pmu1.vi0, @pmu3.vi0

// NONE: step_ahead_no_projection.mlir: error: spatial-partition: nest n1: nest 'y_h' has no input projection to compute a step ahead: every reduction must begin with a part that reads nothing the time loop writes (x) and end with one that does (h)
// NONE-NOT: error

// PARTS: step_ahead_negative_parts.mlir: error: spatial-partition: nest n0: nest 'h': the input projection's parts (step_ahead) must be >= 1, got -1
