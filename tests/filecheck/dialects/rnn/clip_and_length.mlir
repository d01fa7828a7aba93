// A clip must be a positive number (NaN, 0 and negatives are refused) and a sequence must
// have at least one step: the verifier says so at the op, before any level runs it.
// RUN: not rnnc %s --split-input-file 2>&1 | filecheck %s

func.func @nan_clip(%X: tensor<3x1x2xf32>, %W: tensor<1x4x2xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64, clip = 0x7FC00000 : f32} : (tensor<3x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}
// CHECK: clip_and_length.mlir:6:3: error: rnn.rnn: clip must be a positive number, got nan

// -----

func.func @negative_clip(%X: tensor<3x1x2xf32>, %W: tensor<1x4x2xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64, clip = -1.0 : f32} : (tensor<3x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}
// CHECK: clip_and_length.mlir:14:3: error: rnn.rnn: clip must be a positive number, got -1.0

// -----

func.func @no_steps(%X: tensor<0x1x2xf32>, %W: tensor<1x4x2xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<0x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x4xf32>) -> (tensor<0x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}
// CHECK: clip_and_length.mlir:22:3: error: rnn.rnn: the sequence length (the time dimension of X) must be at least 1, got 0
