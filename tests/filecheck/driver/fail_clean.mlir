// Bad input and a failing pass each end in one diagnostic naming the file, and the IR is
// verified after every pass, so a pass that breaks it is named.
// RUN: not rnnc %S/Inputs/truncated.mlir 2>&1 | filecheck %s --check-prefix=TRUNCATED
// RUN: not rnnc %s --load-pass-plugin %S/Inputs/breaks_ir.py -p user-break-ir 2>&1 | filecheck %s --check-prefix=BROKEN
// RUN: not rnnc %s -p 'rnn-decompose{' 2>&1 | filecheck %s --check-prefix=SPEC
// RUN: rnnc %s -p rnn-decompose,loop-fuse --print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=DUMP

func.func @main(%X: tensor<3x1x2xf32>, %W: tensor<1x4x2xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<3x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}

// TRUNCATED: truncated.mlir:3:1: error: unexpected end of file: the input is truncated (a '}' or more is missing)
// BROKEN: fail_clean.mlir:9:3: error: invalid IR after pass 'user-break-ir': Operation rnn.rnn terminates block in single-block region but is not a terminator
// SPEC: -p: error: invalid pass pipeline 'rnn-decompose{': Expected argument name here (at column 15)
// DUMP: // -----// IR Dump After rnn-decompose //----- //
// DUMP: loop.sequential
// DUMP: // -----// IR Dump After loop-fuse //----- //
// DUMP: loop.sequential
