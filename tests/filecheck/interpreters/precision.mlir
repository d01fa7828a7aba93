// `rnnc run --precision mixed` emulates the paper's 8/16/32-bit mode at the loop level and,
// with --compare, prints its error against fp32 per output.
// RUN: rm -rf %t && mkdir -p %t
// RUN: rnnc gen lstm 64 5 -o %t/m.mlir
// RUN: rnnc run %t/m.mlir --inputs %t/m.inputs.npz -p rnn-decompose,loop-fuse --precision mixed --compare fp32 | filecheck %s
// RUN: not rnnc run %t/m.mlir --inputs %t/m.inputs.npz --precision mixed 2>&1 | filecheck %s --check-prefix=RNNLEVEL
// RUN: not rnnc run %t/m.mlir --inputs %t/m.inputs.npz -p rnn-decompose --precision mixed:lut=1 2>&1 | filecheck %s --check-prefix=BADMODE

// CHECK:      error of mixed against fp32
// CHECK-NEXT:   output {{.*}} max abs err
// CHECK-NEXT:   Y {{.*}}5x1x1x64
// CHECK-NEXT:   Y_h {{.*}}1x1x64

// RNNLEVEL: --precision: error: mixed is emulated at the loop level; add a pipeline that reaches it, e.g. -p rnn-decompose,loop-fuse
// BADMODE: --precision: error:
