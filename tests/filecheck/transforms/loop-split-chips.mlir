// loop-split-chips: chip K of a model split over N chips keeps its hidden units. The time
// loop's nests (the final state's store too) iterate over the chip's share [lo, hi), every
// access by the hidden-unit counter moves by lo, and the split is recorded on the time loop.
// RUN: rm -rf %t && mkdir -p %t
// RUN: rnnc gen lstm 7 3 --input 4 -o %t/m.mlir > /dev/null
// RUN: rnnc %t/m.mlir -p 'rnn-decompose,loop-fuse,loop-zero-init,loop-fold-constants,loop-assign-resources{chips=2},loop-split-chips{chips=2 chip=1}' | filecheck %s

// CHECK:      loop.sequential %t in 3 {
// CHECK-NEXT:   loop.foreach (%{{.*}}, %{{.*}}, %[[I:.*]]) in (1, 1, 3) par
// CHECK:          loop.load %w[%{{.*}}, %[[I]] + 11, %{{.*}}]
// CHECK:          loop.store %h_new, %h[%{{.*}}, %{{.*}}, %[[I]] + 4] buffer %t + 1
// CHECK-NEXT:     loop.store %h_new, %y_h[%{{.*}}, %{{.*}}, %[[I]] + 4]
// CHECK:        loop.chip = {chip = 1 : i64, chips = 2 : i64, rows = array<i64: 4, 7>, exchange = ["h"]}

// Chip 0 keeps the first four.
// RUN: rnnc %t/m.mlir -p 'rnn-decompose,loop-fuse,loop-assign-resources{chips=2},loop-split-chips{chips=2 chip=0}' | filecheck %s --check-prefix=FIRST
// FIRST: loop.foreach (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 4) par
// FIRST: rows = array<i64: 0, 4>

// One chip: nothing to split.
// RUN: rnnc %t/m.mlir -p 'rnn-decompose,loop-fuse,loop-split-chips{chips=1}' | filecheck %s --check-prefix=ONE
// ONE-NOT: loop.chip

// Errors.
// RUN: not rnnc %t/m.mlir -p 'rnn-decompose,loop-fuse,loop-split-chips{chips=2 chip=2}' 2>&1 | filecheck %s --check-prefix=NOCHIP
// NOCHIP: m.mlir: error: loop-split-chips: chip 2 of 2: chips are numbered 0 to 1
// RUN: not rnnc %t/m.mlir -p 'rnn-decompose,loop-fuse,loop-split-chips{chips=8}' 2>&1 | filecheck %s --check-prefix=MANY
// MANY: m.mlir: error: loop-split-chips: 7 hidden units cannot be split over 8 chips (each chip computes at least one)
// RUN: not rnnc %t/m.mlir -p 'loop-split-chips{chips=2}' 2>&1 | filecheck %s --check-prefix=NOLOOP
// NOLOOP: m.mlir: error: loop-split-chips: a program of 0 time loops cannot be split over chips (one layer only: the next layer would need this one's output gathered)
