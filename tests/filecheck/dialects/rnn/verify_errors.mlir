// Verifier diagnostics name the operand, the shape found and the shape expected.
// RUN: not rnnc %s --split-input-file 2>&1 | filecheck %s

func.func @wrong_w(%x: tensor<5x2x4xf32>, %w: tensor<1x24x4xf32>, %r: tensor<1x32x8xf32>) {
  %y, %yh, %yc = rnn.lstm %x, %w, %r {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x32x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:5:3: error: rnn.lstm: operand 'W' has shape 1x24x4, expected 1x32x4 ([num_directions, G*hidden_size, input_size])

// -----

func.func @wrong_r(%x: tensor<5x2x4xf32>, %w: tensor<1x24x4xf32>, %r: tensor<1x24x4xf32>) {
  %y, %yh = rnn.gru %x, %w, %r {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x4xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:13:3: error: rnn.gru: operand 'R' has shape 1x24x4, expected 1x24x8 ([num_directions, G*hidden_size, hidden_size])

// -----

func.func @wrong_b(%x: tensor<5x2x4xf32>, %w: tensor<2x8x4xf32>, %r: tensor<2x8x8xf32>, %b: tensor<2x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r bias %b {hidden_size = 8 : i64, direction = "bidirectional"} : (tensor<5x2x4xf32>, tensor<2x8x4xf32>, tensor<2x8x8xf32>, tensor<2x8xf32>) -> (tensor<5x2x2x8xf32>, tensor<2x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:21:3: error: rnn.rnn: operand 'B' has shape 2x8, expected 2x16 ([num_directions, 2*G*hidden_size])

// -----

func.func @wrong_lens(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>, %l: tensor<3xi32>) {
  %y, %yh = rnn.rnn %x, %w, %r sequence_lens %l {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>, tensor<3xi32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:29:3: error: rnn.rnn: operand 'sequence_lens' has shape 3, expected 2 ([batch])

// -----

func.func @lens_type(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>, %l: tensor<2xi64>) {
  %y, %yh = rnn.rnn %x, %w, %r sequence_lens %l {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>, tensor<2xi64>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:37:3: error: rnn.rnn: operand 'sequence_lens' must have element type i32, got i64

// -----

func.func @wrong_h0(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>, %h: tensor<2x1x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r initial_h %h {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>, tensor<2x1x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:45:3: error: rnn.rnn: operand 'initial_h' has shape 2x1x8, expected 1x2x8 ([num_directions, batch, hidden_size])

// -----

func.func @wrong_p(%x: tensor<5x2x4xf32>, %w: tensor<1x32x4xf32>, %r: tensor<1x32x8xf32>, %p: tensor<1x32xf32>) {
  %y, %yh, %yc = rnn.lstm %x, %w, %r peepholes %p {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x32x4xf32>, tensor<1x32x8xf32>, tensor<1x32xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:53:3: error: rnn.lstm: operand 'P' has shape 1x32, expected 1x24 ([num_directions, 3*hidden_size])

// -----

func.func @bad_direction(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64, direction = "sideways"} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:61:3: error: rnn.rnn: direction must be one of forward, reverse, bidirectional, got "sideways"

// -----

func.func @activation_count(%x: tensor<5x2x4xf32>, %w: tensor<1x24x4xf32>, %r: tensor<1x24x8xf32>) {
  %y, %yh = rnn.gru %x, %w, %r {hidden_size = 8 : i64, activations = ["Sigmoid"]} : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:69:3: error: rnn.gru: activations has 1 entries, expected 2 (2 per direction, 1 direction(s))

// -----

func.func @unknown_activation(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64, activations = ["Swish"]} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:77:3: error: rnn.rnn: unknown activation "Swish" (expected one of Affine, Elu, HardSigmoid, LeakyRelu, Relu, ScaledTanh, Sigmoid, Softplus, Softsign, Tanh, ThresholdedRelu)

// -----

func.func @zero_hidden(%x: tensor<5x2x4xf32>, %w: tensor<1x0x4xf32>, %r: tensor<1x0x0xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 0 : i64} : (tensor<5x2x4xf32>, tensor<1x0x4xf32>, tensor<1x0x0xf32>) -> (tensor<5x1x2x0xf32>, tensor<1x2x0xf32>)
  func.return
}
// CHECK: verify_errors.mlir:85:3: error: rnn.rnn: hidden_size must be >= 1, got 0

// -----

func.func @bad_layout(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64, layout = 2 : i64} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:93:3: error: rnn.rnn: layout must be 0 or 1, got 2

// -----

func.func @wrong_y(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<5x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:101:3: error: rnn.rnn: result 'Y' has shape 5x2x8, expected 5x1x2x8 ([seq_length, num_directions, batch, hidden_size])

// -----

func.func @batch_first_state(%x: tensor<2x5x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64, layout = 1 : i64} : (tensor<2x5x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<2x5x1x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:109:3: error: rnn.rnn: result 'Y_h' has shape 1x2x8, expected 2x1x8 ([batch, num_directions, hidden_size])

// -----

func.func @lbr(%x: tensor<5x2x4xf32>, %w: tensor<1x24x4xf32>, %r: tensor<1x24x8xf32>) {
  %y, %yh = rnn.gru %x, %w, %r {hidden_size = 8 : i64, linear_before_reset = 2 : i64} : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:117:3: error: rnn.gru: linear_before_reset must be 0 or 1, got 2

// -----

func.func @rank(%x: tensor<5x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64} : (tensor<5x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:125:3: error: rnn.rnn: operand 'X' has rank 2, expected rank 3 ([seq_length, batch, input_size] for layout 0)

// -----

func.func @element_type(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x8xf32>) {
  %y, %yh = rnn.rnn %x, %w, %r {hidden_size = 8 : i64} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf64>, tensor<1x2x8xf32>)
  func.return
}
// CHECK: verify_errors.mlir:133:3: error: rnn.rnn: result element type f64 differs from the element type f32 of X

// -----

func.func @transpose(%y: tensor<5x1x2x8xf32>) {
  %t = rnn.transpose %y {perm = array<i64: 0, 2, 2, 3>} : tensor<5x1x2x8xf32> -> tensor<5x2x1x8xf32>
  func.return
}
// CHECK: verify_errors.mlir:141:3: error: rnn.transpose: perm [0, 2, 2, 3] is not a permutation of the 4 axes of the input

// -----

func.func @reshape(%y: tensor<5x1x2x8xf32>) {
  %t = rnn.reshape %y : tensor<5x1x2x8xf32> -> tensor<5x2x9xf32>
  func.return
}
// CHECK: verify_errors.mlir:149:3: error: rnn.reshape: cannot reshape 80 elements into 90 (tensor<5x1x2x8xf32> -> tensor<5x2x9xf32>)

// -----

func.func @concat(%a: tensor<1x2x8xf32>, %b: tensor<1x3x8xf32>) {
  %c = rnn.concat %a, %b {axis = 0 : i64} : (tensor<1x2x8xf32>, tensor<1x3x8xf32>) -> tensor<2x2x8xf32>
  func.return
}
// CHECK: verify_errors.mlir:157:3: error: rnn.concat: operand 'inputs[1]' has shape 1x3x8, which differs from inputs[0] (1x2x8) off axis 0
