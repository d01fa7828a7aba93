// The chained-sums schedule: the parts of a reduction add their neighbours' partial sums
// in their map-reduce units' free stages (spatial.reduce's operands, arriving on scalar
// inputs) instead of combining PCUs. loop-assign-resources chooses it and marks the nest
// (loop.chained_sums); spatial-partition builds it from the plan; --schedules none keeps
// the paper's combining trees. Inputs/chained_sums.mlir: a small RNN cell (H=4, D=3) at
// par 1 with its reduction in 3 parts (ru=3, rv=1).
// RUN: rnnc %s --emit=loop --precision fp32 --schedules chained-sums | filecheck %s --check-prefix=SEARCH
// RUN: rnnc %s --emit=loop --precision fp32 --schedules none | filecheck %s --check-prefix=PAPER
// RUN: rnnc %S/Inputs/chained_sums.mlir -p 'spatial-partition{precision=fp32}' | filecheck %s --check-prefix=FP32
// RUN: rnnc %S/Inputs/chained_sums.mlir -p 'spatial-partition{precision=fp32}' | rnnc - | filecheck %s --check-prefix=FP32
// RUN: rnnc %S/Inputs/chained_sums.mlir -p spatial-partition | filecheck %s --check-prefix=MIXED
// RUN: not rnnc %S/Inputs/chained_sums.mlir -p spatial-partition --arch %S/Inputs/three_stages.json 2>&1 | filecheck %s --check-prefix=NOROOM

func.func @main(%X: tensor<2x1x300xf32>, %W: tensor<1x4x300xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<2x1x300xf32>, tensor<1x4x300xf32>, tensor<1x4x4xf32>) -> (tensor<2x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}

// The search splits the 304-long reduction and chains the parts: the mark on the nest.
// SEARCH:      loop.sequential
// SEARCH-NEXT:   loop.foreach
// SEARCH-NEXT:     loop.reduce add par {{[2-9]|[1-9][0-9]+}} vec
// SEARCH:        } {loop.chained_sums}
// SEARCH:      loop.cost
// PAPER-NOT:   loop.chained_sums

// fp32 (1 prefix stage of 4): two stages free, so part 0 adds parts 1 and 2 (a tree of
// fan-in 2); no combining unit.
// FP32:      spatial.pcu @n1_mr0_s0_p0 map_reduce
// FP32:        %[[A:.*]] = spatial.in si0
// FP32-NEXT:   %[[B:.*]] = spatial.in si1
// FP32-NEXT:   spatial.reduce add -> so0 rv 1 (%[[A]], %[[B]])
// FP32-NEXT:   spatial.segment "r0" 0 to 3 base 0
// FP32:      spatial.pcu @n1_mr0_s0_p1 map_reduce
// FP32:        spatial.reduce add -> so0 rv 1 ()
// FP32:      spatial.pcu @n1_mr0_s0_p2 map_reduce
// FP32:        spatial.reduce add -> so0 rv 1 ()
// FP32-NOT:  combine
// FP32:      spatial.stream @s0 scalar @n1_mr0_s0_p1.so0 -> @n1_mr0_s0_p0.si0
// FP32-NEXT: spatial.stream @s1 scalar @n1_mr0_s0_p2.so0 -> @n1_mr0_s0_p0.si1
// FP32-NEXT: spatial.stream @s2 scalar @n1_mr0_s0_p0.so0 -> @n1_ew0_0.si0

// mixed (2 prefix stages of 4): one stage free, so the parts form a chain 2 -> 1 -> 0.
// MIXED:      spatial.pcu @n1_mr0_s0_p0 map_reduce
// MIXED:        %[[A:.*]] = spatial.in si0
// MIXED-NEXT:   spatial.reduce add -> so0 rv 1 (%[[A]])
// MIXED:      spatial.pcu @n1_mr0_s0_p1 map_reduce
// MIXED:        %[[B:.*]] = spatial.in si0
// MIXED-NEXT:   spatial.reduce add -> so0 rv 1 (%[[B]])
// MIXED:      spatial.pcu @n1_mr0_s0_p2 map_reduce
// MIXED:        spatial.reduce add -> so0 rv 1 ()
// MIXED-NOT:  combine
// MIXED:      spatial.stream @s0 scalar @n1_mr0_s0_p1.so0 -> @n1_mr0_s0_p0.si0
// MIXED-NEXT: spatial.stream @s1 scalar @n1_mr0_s0_p2.so0 -> @n1_mr0_s0_p1.si0

// A chip whose PCUs have no stage to spare refuses the mark.
// NOROOM: error: spatial-partition: nest n1: its partial sums are chained in its map-reduce units (loop.chained_sums), but a PCU of three-stages in mixed has no stage left to add them (3 stages: 2 prefix, 1 folded tree)
