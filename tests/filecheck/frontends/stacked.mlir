// A stacked model in the shape exporters write: the zero initial state of the LSTM is
// computed from X's shape at run time (Shape, Gather, Unsqueeze, Concat, ConstantOfShape),
// which the importer folds away; Transpose/Reshape/Gather/Unsqueeze/Squeeze/Slice/Flatten
// become rnn ops; @main keeps the ONNX input and output names; the GRU's skipped Y_h
// output is not returned. The printed module parses back to the same text.
// RUN: rm -rf %t && mkdir %t && %python %S/../../onnx_graphs.py %t
// RUN: rnnc import %t/stacked.onnx -o %t/stacked.mlir
// RUN: filecheck %s --input-file=%t/stacked.mlir
// RUN: rnnc %t/stacked.mlir | filecheck %s

// CHECK:      builtin.module attributes {rnn.weights = "stacked.npz"} {
// CHECK-NEXT:   func.func @main(%X: tensor<4x2x3xf32> {rnn.name = "X"}, %h0: tensor<2x2x5xf32> {rnn.name = "h0"}) -> (tensor<3x10xf32> {rnn.name = "Y"}, tensor<2x2x5xf32> {rnn.name = "state"}) {
// CHECK-NEXT:     %lstm_W = rnn.weight "lstm_W" : tensor<2x20x3xf32>
// CHECK-NEXT:     %lstm_R = rnn.weight "lstm_R" : tensor<2x20x5xf32>
// CHECK-NEXT:     %lstm_B = rnn.weight "lstm_B" : tensor<2x40xf32>
// CHECK-NEXT:     %Y1, %Y1_h, %{{.*}} = rnn.lstm %X, %lstm_W, %lstm_R bias %lstm_B {direction = "bidirectional", hidden_size = 5 : i64} : (tensor<4x2x3xf32>, tensor<2x20x3xf32>, tensor<2x20x5xf32>, tensor<2x40xf32>) -> (tensor<4x2x2x5xf32>, tensor<2x2x5xf32>, tensor<2x2x5xf32>)
// CHECK-NEXT:     %Y1_t = rnn.transpose %Y1 {perm = array<i64: 0, 2, 1, 3>} : tensor<4x2x2x5xf32> -> tensor<4x2x2x5xf32>
// CHECK-NEXT:     %X2 = rnn.reshape %Y1_t : tensor<4x2x2x5xf32> -> tensor<4x2x10xf32>
// CHECK-NEXT:     %gru_h0 = rnn.slice %h0 {axis = 0 : i64, start = 1 : i64} : tensor<2x2x5xf32> -> tensor<1x2x5xf32>
// CHECK-NEXT:     %gru_W = rnn.weight "gru_W" : tensor<1x15x10xf32>
// CHECK-NEXT:     %gru_R = rnn.weight "gru_R" : tensor<1x15x5xf32>
// CHECK-NEXT:     %gru_B = rnn.weight "gru_B" : tensor<1x30xf32>
// CHECK-NEXT:     %Y2, %{{.*}} = rnn.gru %X2, %gru_W, %gru_R bias %gru_B initial_h %gru_h0 {hidden_size = 5 : i64, linear_before_reset = 1 : i64} : (tensor<4x2x10xf32>, tensor<1x15x10xf32>, tensor<1x15x5xf32>, tensor<1x30xf32>, tensor<1x2x5xf32>) -> (tensor<4x1x2x5xf32>, tensor<1x2x5xf32>)
// CHECK-NEXT:     %Y2_s = rnn.reshape %Y2 : tensor<4x1x2x5xf32> -> tensor<4x2x5xf32>
// CHECK-NEXT:     %Y2_last = rnn.slice %Y2_s {axis = 0 : i64, start = 1 : i64} : tensor<4x2x5xf32> -> tensor<3x2x5xf32>
// CHECK-NEXT:     %Y = rnn.reshape %Y2_last : tensor<3x2x5xf32> -> tensor<3x10xf32>
// CHECK-NEXT:     func.return %Y, %Y1_h : tensor<3x10xf32>, tensor<2x2x5xf32>
// CHECK-NEXT:   }
// CHECK-NEXT: }
