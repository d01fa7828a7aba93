// spatial-partition lowers a loop program to logical units and streams: map-reduce PCUs
// with their weight slices, the element-wise chain, PMUs and address generators. A small
// RNN cell (H=4, D=3) at par 1.
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32}' | filecheck %s
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32}' | rnnc - | filecheck %s
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32}' --print-op-generic | rnnc - | filecheck %s
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition' | filecheck %s --check-prefix=MIXED
// RUN: not rnnc %S/Inputs/too_many_copies.mlir -p spatial-partition 2>&1 | filecheck %s --check-prefix=FULL
// RUN: not rnnc %s -p 'rnn-decompose,spatial-partition{precision=fp64}' 2>&1 | filecheck %s --check-prefix=PRECISION
// RUN: not rnnc %s -p 'spatial-partition' 2>&1 | filecheck %s --check-prefix=NOLOOP

func.func @main(%X: tensor<2x1x3xf32>, %W: tensor<1x4x3xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<2x1x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<2x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}

// CHECK:      spatial.design @main #spatial.arch<"plasticine-rnn", "{{[0-9a-f]+}}"> precision "fp32" {
// The program first: the memories (how each starts), the model's inputs and outputs, the
// nests, their design points and the schedule.
// CHECK-NEXT:   spatial.memory "x" dram [2, 1, 3] element_bytes 4 buffers 1 init input "X"
// CHECK-NEXT:   spatial.memory "w" sram [1, 4, 3] element_bytes 4 buffers 1 init input "W"
// CHECK-NEXT:   spatial.memory "r" sram [1, 4, 4] element_bytes 4 buffers 1 init input "R"
// CHECK-NEXT:   spatial.memory "h" sram [1, 1, 4] element_bytes 4 buffers 2{{$}}
// CHECK-NEXT:   spatial.memory "y_h" dram [1, 1, 4] element_bytes 4 buffers 1{{$}}
// CHECK-NEXT:   spatial.bind input "X" [2, 1, 3] "f32" to "x"
// CHECK-NEXT:   spatial.bind input "W" [1, 4, 3] "f32" to "w"
// CHECK-NEXT:   spatial.bind input "R" [1, 4, 4] "f32" to "r"
// CHECK-NEXT:   spatial.bind output "Y_h" [1, 1, 4] "f32" to "y_h"
// CHECK-NEXT:   spatial.nest "n0" [1, 1, 4] par [1, 1, 1]
// CHECK-NEXT:   spatial.nest "n1" [1, 1, 4] par [1, 1, 1]
// CHECK-NEXT:   spatial.point "n0" hu 1 ru 1 rv 1
// CHECK-NEXT:   spatial.point "n1" hu 1 ru 1 rv 1
// CHECK-NEXT:   spatial.phase once ["n0"]
// CHECK-NEXT:   spatial.phase loop 2 ["n1"]
// The initial state (n0), the cell (n1): a map-reduce unit over all of [x, h] (7 long:
// x in 0..2 from W, h in 3..6 from R), its tanh in the chain, which also writes Y_h (no
// nest copies the final state out).
// CHECK-NEXT: spatial.pcu @n0_ew0_0 elementwise mode elementwise "n0" lanes 1 counters ["d0" 0 to 1 step 1, "d1" 0 to 1 step 1, "d2" 0 to 4 step 1] copies [0] {
// Operands are values of the unit's body: its counters (the chain's, the reduction
// index k, the time step t), its inputs and its earlier ops.
// CHECK:      spatial.pcu @n1_mr0_s0_p0 map_reduce mode map_reduce "n1" lanes 1
// CHECK-NEXT:   %[[D0:.*]] = spatial.ctr "d0"
// CHECK-NEXT:   %[[D2:.*]] = spatial.ctr "d2"
// CHECK-NEXT:   %[[K:.*]] = spatial.ctr "k"
// CHECK-NEXT:   %[[W:.*]] = spatial.op read stage 0 (%[[D0]], %[[D2]], %[[K]]) memory "w" port vi0 offsets [0, 0, 0]
// CHECK:        %[[XW:.*]] = spatial.op mul stage 0 (%[[W]], %{{.*}})
// CHECK:        %[[HR:.*]] = spatial.op mul stage 0
// CHECK-NEXT:   spatial.reduce add -> so0 rv 1 ()
// CHECK-NEXT:   spatial.segment "r0" 0 to 3 base 0 (%[[XW]])
// CHECK-NEXT:   spatial.segment "r0" 3 to 7 base 3 (%[[HR]])
// CHECK-NEXT: }
// CHECK-NEXT: spatial.pcu @n1_ew0_0 elementwise mode elementwise "n1" lanes 1
// CHECK-NEXT:   %[[IN:.*]] = spatial.in si0
// CHECK-NEXT:   spatial.op tanh stage 0 (%[[IN]])
// The weight slice: W's and R's rows by reference, never values (4 rows x 7 x 4 bytes).
// CHECK:      spatial.pmu @pmu0 weights strided bytes 112 buffers 1 boxes ["w"[0:1:1, 0:4:1, 0:3:1], "r"[0:1:1, 0:4:1, 0:4:1]]
// CHECK-SAME:   holds ["W"[0:1:1, 0:4:1, 0:3:1] as "fp32", "R"[0:1:1, 0:4:1, 0:4:1] as "fp32"]
// The [x, h] operand: one step of x (3, staged per step) and h (4), double-buffered:
// (3 + 4) x 4 x 2 bytes.
// CHECK-NEXT: spatial.pmu @pmu1 operand strided bytes 56 buffers 2 boxes ["x"[0:2:1, 0:1:1, 0:3:1] per_step, "h"[0:1:1, 0:1:1, 0:4:1]]
// CHECK-NEXT: spatial.ag @ag0 left store "y_h"
// CHECK-NEXT: spatial.ag @ag1 right load "x"
// The schedule's controller (its control streams follow the data streams: spatial-control.mlir).
// CHECK-NEXT: spatial.controller @ctrl
// CHECK-NEXT: spatial.stream @s0 scalar @n1_mr0_s0_p0.so0 -> @n1_ew0_0.si0
// The initial h into the PMU holding h; each step's h multicast to it and to Y_h's AG (a
// DRAM store the loop posts: the last step's remains); x from its AG.
// CHECK-NEXT: spatial.stream @s1 vector @n0_ew0_0.vo0 -> @pmu1.vi0
// CHECK-NEXT: spatial.stream @s2 vector @n1_ew0_0.vo0 -> @pmu1.vi1, @ag0.vi0
// CHECK-NEXT: spatial.stream @s3 vector @ag1.vo0 -> @pmu1.vi2
// CHECK-NEXT: spatial.stream @s4 vector @pmu0.vo0 -> @n1_mr0_s0_p0.vi0
// CHECK-NEXT: spatial.stream @s5 vector @pmu1.vo0 -> @n1_mr0_s0_p0.vi1
// CHECK-NEXT: spatial.stream @enable control

// In mixed precision the tanh reads a lookup table held in a PMU:
// MIXED: spatial.pmu @n1_ew0_0_lut "lookup-table" strided bytes 8192 buffers 1 lut ["tanh" 1024 8.0 linear]

// 200 map-reduce, 34 element-wise (6 copies each: 6 scalar inputs) and 17 gathering PCUs:
// FULL: error: spatial-partition: the design needs 251 PCUs and 200 PMUs; the chip has 192 and 384 (59 PCUs short)
// PRECISION: error: spatial-partition: architecture 'plasticine-rnn' has no precision 'fp64'
// NOLOOP: error: spatial-partition: expected a loop-level program, found rnn.rnn (run rnn-decompose first)
