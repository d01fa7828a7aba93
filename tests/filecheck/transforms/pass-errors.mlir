// The passes report what they cannot do as diagnostics, with a non-zero exit.
// RUN: not rnnc %s --split-input-file -p rnn-decompose 2>&1 | filecheck %s --check-prefix=DECOMPOSE
// RUN: not rnnc %s --split-input-file -p loop-fuse 2>&1 | filecheck %s --check-prefix=FUSE

func.func @integer(%X: tensor<3x1x2xi32>, %W: tensor<1x4x2xi32>, %R: tensor<1x4x4xi32>) -> tensor<1x1x4xi32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<3x1x2xi32>, tensor<1x4x2xi32>, tensor<1x4x4xi32>) -> (tensor<3x1x1x4xi32>, tensor<1x1x4xi32>)
  func.return %Y_h : tensor<1x1x4xi32>
}
// DECOMPOSE: pass-errors.mlir: error: not supported at loop level: rnn.rnn with element type i32 (expected f16, f32 or f64)
// FUSE: pass-errors.mlir: error: loop-fuse works on loop-level IR, but found rnn.rnn: run rnn-decompose first

// -----

func.func @bf16(%X: tensor<3x1x2xbf16>, %W: tensor<1x4x2xbf16>, %R: tensor<1x4x4xbf16>) -> tensor<1x1x4xbf16> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<3x1x2xbf16>, tensor<1x4x2xbf16>, tensor<1x4x4xbf16>) -> (tensor<3x1x1x4xbf16>, tensor<1x1x4xbf16>)
  func.return %Y_h : tensor<1x1x4xbf16>
}
// DECOMPOSE: pass-errors.mlir: error: not supported at loop level: rnn.rnn with element type bf16 (expected f16, f32 or f64)
// FUSE: pass-errors.mlir: error: loop-fuse works on loop-level IR, but found rnn.rnn: run rnn-decompose first

// -----

func.func @no_inputs(%X: tensor<3x1x0xf32>, %W: tensor<1x4x0xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<3x1x0xf32>, tensor<1x4x0xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}
// DECOMPOSE: pass-errors.mlir: error: not supported at loop level: rnn.rnn with batch 1 and input size 0 (loops need at least one iteration)
// FUSE: pass-errors.mlir: error: loop-fuse works on loop-level IR, but found rnn.rnn: run rnn-decompose first
