// The joint-chunks schedule: a slot's reductions (a GRU candidate gate's x product W_n x
// and h product R_n h) cut as one sequence of chunks instead of each in ru parts of its
// own; the unit whose part straddles the two folds the end of one and the start of the
// other and sends both sums. loop-assign-resources marks the nest (loop.joint_chunks) only
// where that is faster; spatial-partition builds the parts. Inputs/joint_chunks.mlir: a
// GRU cell (H=3, D=3, linear_before_reset=1) at par 1, ru=3, rv=1, marked: its candidate
// slot (r0: x, 3 long; r2: h, 3 long) is one sequence of 6 chunks in 3 parts of 2.
// RUN: rnnc %S/Inputs/joint_chunks.mlir -p 'spatial-partition{precision=fp32}' | filecheck %s --check-prefix=JOINT
// RUN: sed 's/ {loop.joint_chunks}//' %S/Inputs/joint_chunks.mlir | rnnc - -p 'spatial-partition{precision=fp32}' | filecheck %s --check-prefix=PAPER
// RUN: rnnc %s --emit=loop --precision fp32 | filecheck %s --check-prefix=TIE
// RUN: not rnnc %S/Inputs/joint_chunks.mlir -p 'spatial-partition{precision=int4}' 2>&1 | filecheck %s --check-prefix=BLOCKS

func.func @main(%X: tensor<2x1x3xf32>, %W: tensor<1x9x3xf32>, %R: tensor<1x9x3xf32>) -> tensor<1x1x3xf32> {
  %Y, %Y_h = rnn.gru %X, %W, %R {hidden_size = 3 : i64, linear_before_reset = 1 : i64} : (tensor<2x1x3xf32>, tensor<1x9x3xf32>, tensor<1x9x3xf32>) -> (tensor<2x1x1x3xf32>, tensor<1x1x3xf32>)
  func.return %Y_h : tensor<1x1x3xf32>
}

// Joint: part 0 holds x[0, 2) (and no h: the identity's empty range), part 1 straddles
// (x[2, 3) and h[0, 1), two sums), part 2 holds h[1, 3).
// JOINT:      spatial.pcu @n0_mr0_s2_p0 map_reduce
// JOINT:        spatial.reduce add -> so0 rv 1 ()
// JOINT-NEXT:   spatial.segment "r0" 0 to 2 base 0 (%{{.*}})
// JOINT-NEXT:   spatial.segment "r2" 3 to 3 base 0 ()
// JOINT:      spatial.pcu @n0_mr0_s2_p1 map_reduce
// JOINT:        spatial.reduce add -> so0 rv 1 ()
// JOINT-NEXT:   spatial.segment "r0" 2 to 3 base 0 (%{{.*}})
// JOINT-NEXT:   spatial.segment "r2" 0 to 1 base 0 (%{{.*}})
// JOINT:      spatial.pcu @n0_mr0_s2_p2 map_reduce
// JOINT:        spatial.reduce add -> so0 rv 1 ()
// JOINT-NEXT:   spatial.segment "r0" 3 to 3 base 0 ()
// JOINT-NEXT:   spatial.segment "r2" 1 to 3 base 0 (%{{.*}})
// JOINT-NOT:  spatial.pcu @n0_mr0_s2_p3

// Without the mark, the paper's form: each reduction in 3 parts of its own, part r holding
// x[r, r + 1) and h[r, r + 1).
// PAPER:      spatial.pcu @n0_mr0_s2_p1 map_reduce
// PAPER:        spatial.reduce add -> so0 rv 1 ()
// PAPER-NEXT:   spatial.segment "r0" 1 to 2 base 0 (%{{.*}})
// PAPER-NEXT:   spatial.segment "r2" 1 to 2 base 0 (%{{.*}})

// The search keeps the paper's form where the joint one is no faster (here: 3-long
// reductions, both forms fold the same chunks).
// TIE:      loop.sequential
// TIE-NOT:  loop.joint_chunks
// TIE:      loop.cost

// Block-scaled weights count a slice's blocks per reduction part: the mark is refused.
// BLOCKS: error: spatial-partition: nest n0: nest 'h': one chunk sequence over a slot's reductions is not for block-scaled weights (int4)
