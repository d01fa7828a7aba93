// Custom syntax round-trips, and so does the generic form.
// RUN: rnnc %s | filecheck %s
// RUN: rnnc %s | rnnc - | filecheck %s
// RUN: rnnc %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// RUN: rnnc %s --print-op-generic | rnnc - | filecheck %s

builtin.module attributes {rnn.weights = "weights.npz"} {
  func.func @main(%X: tensor<5x2x4xf32>, %B: tensor<2x64xf32>, %lens: tensor<2xi32>, %h0: tensor<2x2x8xf32>, %c0: tensor<2x2x8xf32>, %P: tensor<2x24xf32>) -> (tensor<5x2x2x8xf32>, tensor<1x2x8xf32>, tensor<5x1x2x8xf32>) {
    %W = rnn.weight "W" : tensor<2x32x4xf32>
    %R = rnn.weight "R" : tensor<2x32x8xf32>
    %y, %yh, %yc = rnn.lstm %X, %W, %R bias %B sequence_lens %lens initial_h %h0 initial_c %c0 peepholes %P {hidden_size = 8 : i64, direction = "bidirectional", clip = 3.0 : f32, activations = ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Tanh", "Tanh"], activation_alpha = [0.2 : f32], activation_beta = [0.5 : f32], input_forget = 1 : i64} : (tensor<5x2x4xf32>, tensor<2x32x4xf32>, tensor<2x32x8xf32>, tensor<2x64xf32>, tensor<2xi32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x24xf32>) -> (tensor<5x2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
    %Wg = rnn.weight "Wg" : tensor<1x24x4xf32>
    %Rg = rnn.weight "Rg" : tensor<1x24x8xf32>
    %g, %gh = rnn.gru %X, %Wg, %Rg {hidden_size = 8 : i64, direction = "reverse", linear_before_reset = 1 : i64} : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
    %Wr = rnn.weight "Wr" : tensor<1x8x16xf32>
    %Rr = rnn.weight "Rr" : tensor<1x8x8xf32>
    %t = rnn.transpose %y {perm = array<i64: 0, 2, 1, 3>} : tensor<5x2x2x8xf32> -> tensor<5x2x2x8xf32>
    %x2 = rnn.reshape %t : tensor<5x2x2x8xf32> -> tensor<5x2x16xf32>
    %r, %rh = rnn.rnn %x2, %Wr, %Rr {hidden_size = 8 : i64, activations = ["Relu"]} : (tensor<5x2x16xf32>, tensor<1x8x16xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
    %both = rnn.concat %gh, %rh {axis = 0 : i64} : (tensor<1x2x8xf32>, tensor<1x2x8xf32>) -> tensor<2x2x8xf32>
    %last = rnn.slice %both {axis = 0 : i64, start = 1 : i64} : tensor<2x2x8xf32> -> tensor<1x2x8xf32>
    func.return %y, %last, %g : tensor<5x2x2x8xf32>, tensor<1x2x8xf32>, tensor<5x1x2x8xf32>
  }
}

// CHECK:      builtin.module attributes {rnn.weights = "weights.npz"} {
// CHECK-NEXT:   func.func @main(%X: tensor<5x2x4xf32>, %B: tensor<2x64xf32>, %lens: tensor<2xi32>, %h0: tensor<2x2x8xf32>, %c0: tensor<2x2x8xf32>, %P: tensor<2x24xf32>) -> (tensor<5x2x2x8xf32>, tensor<1x2x8xf32>, tensor<5x1x2x8xf32>) {
// CHECK-NEXT:     %W = rnn.weight "W" : tensor<2x32x4xf32>
// CHECK-NEXT:     %R = rnn.weight "R" : tensor<2x32x8xf32>
// CHECK-NEXT:     %y, %yh, %yc = rnn.lstm %X, %W, %R bias %B sequence_lens %lens initial_h %h0 initial_c %c0 peepholes %P {hidden_size = 8 : i64, direction = "bidirectional", clip = 3.000000e+00 : f32, activations = ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Tanh", "Tanh"], activation_alpha = [2.000000e-01 : f32], activation_beta = [5.000000e-01 : f32], input_forget = 1 : i64} : (tensor<5x2x4xf32>, tensor<2x32x4xf32>, tensor<2x32x8xf32>, tensor<2x64xf32>, tensor<2xi32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x24xf32>) -> (tensor<5x2x2x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
// CHECK:          %g, %gh = rnn.gru %X, %Wg, %Rg {hidden_size = 8 : i64, direction = "reverse", linear_before_reset = 1 : i64} : (tensor<5x2x4xf32>, tensor<1x24x4xf32>, tensor<1x24x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
// CHECK:          %t = rnn.transpose %y {perm = array<i64: 0, 2, 1, 3>} : tensor<5x2x2x8xf32> -> tensor<5x2x2x8xf32>
// CHECK-NEXT:     %x2 = rnn.reshape %t : tensor<5x2x2x8xf32> -> tensor<5x2x16xf32>
// CHECK-NEXT:     %r, %rh = rnn.rnn %x2, %Wr, %Rr {hidden_size = 8 : i64, activations = ["Relu"]} : (tensor<5x2x16xf32>, tensor<1x8x16xf32>, tensor<1x8x8xf32>) -> (tensor<5x1x2x8xf32>, tensor<1x2x8xf32>)
// CHECK-NEXT:     %both = rnn.concat %gh, %rh {axis = 0 : i64} : (tensor<1x2x8xf32>, tensor<1x2x8xf32>) -> tensor<2x2x8xf32>
// CHECK-NEXT:     %last = rnn.slice %both {axis = 0 : i64, start = 1 : i64} : tensor<2x2x8xf32> -> tensor<1x2x8xf32>
// CHECK-NEXT:     func.return %y, %last, %g : tensor<5x2x2x8xf32>, tensor<1x2x8xf32>, tensor<5x1x2x8xf32>

// GENERIC: "rnn.lstm"(%X, %W, %R, %B, %lens, %h0, %c0, %P) <{{{.*}}operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1>{{.*}}}>
// GENERIC: "rnn.gru"(%X, %Wg, %Rg) <{{{.*}}linear_before_reset = 1 : i64
// GENERIC: "rnn.weight"() <{key = "Wr"}> : () -> tensor<1x8x16xf32>
