// rnn-decompose folds the data movement a framework puts around its layers into how the
// layers index their memories: X's batch_first transpose is read through, the first
// layer writes its two directions joined (d*4 + i) where the second reads them, the
// second writes Y at the model's (batch, time, hidden) shape, and both layers write their
// parts of the concatenated h_n. No tensor-level op is left.
// RUN: rnnc %s -p rnn-decompose | filecheck %s
// RUN: rnnc %s -p rnn-decompose | filecheck %s --check-prefix=NONE

func.func @main(%X: tensor<2x3x4xf32> {rnn.name = "X"}, %W1: tensor<2x4x4xf32> {rnn.name = "W1"}, %R1: tensor<2x4x4xf32> {rnn.name = "R1"}, %W2: tensor<1x4x8xf32> {rnn.name = "W2"}, %R2: tensor<1x4x4xf32> {rnn.name = "R2"}) -> (tensor<2x3x4xf32> {rnn.name = "Y"}, tensor<3x2x4xf32> {rnn.name = "h_n"}) {
  %x = rnn.transpose %X {perm = array<i64: 1, 0, 2>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %y1, %h1 = rnn.rnn %x, %W1, %R1 {hidden_size = 4 : i64, direction = "bidirectional"} : (tensor<3x2x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> (tensor<3x2x2x4xf32>, tensor<2x2x4xf32>)
  %t = rnn.transpose %y1 {perm = array<i64: 0, 2, 1, 3>} : tensor<3x2x2x4xf32> -> tensor<3x2x2x4xf32>
  %x2 = rnn.reshape %t : tensor<3x2x2x4xf32> -> tensor<3x2x8xf32>
  %y2, %h2 = rnn.rnn %x2, %W2, %R2 {hidden_size = 4 : i64} : (tensor<3x2x8xf32>, tensor<1x4x8xf32>, tensor<1x4x4xf32>) -> (tensor<3x1x2x4xf32>, tensor<1x2x4xf32>)
  %s = rnn.reshape %y2 : tensor<3x1x2x4xf32> -> tensor<3x2x4xf32>
  %Y = rnn.transpose %s {perm = array<i64: 1, 0, 2>} : tensor<3x2x4xf32> -> tensor<2x3x4xf32>
  %h_n = rnn.concat %h1, %h2 {axis = 0 : i64} : (tensor<2x2x4xf32>, tensor<1x2x4xf32>) -> tensor<3x2x4xf32>
  func.return %Y, %h_n : tensor<2x3x4xf32>, tensor<3x2x4xf32>
}

// NONE-NOT: {{= rnn\.}}
// NONE: func.return
// CHECK:      %h_n = loop.alloc : memref<3x2x4xf32, #loop.space<dram>>
// CHECK-NEXT: %x = loop.from_tensor %X : tensor<2x3x4xf32> -> memref<2x3x4xf32, #loop.space<dram>>
// CHECK:      %y = loop.alloc : memref<3x2x8xf32, #loop.space<dram>>
// CHECK:      loop.load %x[%b_1, %tx, %k] : memref<2x3x4xf32, #loop.space<dram>>
// The final states are stored where the state is written, each layer its part of h_n.
// CHECK:      loop.store %h_new, %h_n[%d_4, %b_4, %i_4] : memref<3x2x4xf32, #loop.space<dram>>
// CHECK:      %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-NEXT: %[[D4:.*]] = arith.muli %d_4, %[[FOUR]] : index
// CHECK-NEXT: %[[J:.*]] = arith.addi %[[D4]], %i_4 : index
// CHECK-NEXT: loop.store %h_new, %y[%tx_1, %b_4, %[[J]]] : memref<3x2x8xf32, #loop.space<dram>>
// CHECK:      %y_1 = loop.alloc : memref<2x3x4xf32, #loop.space<dram>>
// CHECK:      loop.load %y[%t_1, %b_6, %k_2] : memref<3x2x8xf32, #loop.space<dram>>
// CHECK:      loop.store %h_new_1, %h_n[%d_9 + 2, %b_9, %i_9] : memref<3x2x4xf32, #loop.space<dram>>
// CHECK-NEXT: loop.store %h_new_1, %y_1[%b_9, %t_1, %i_9] : memref<2x3x4xf32, #loop.space<dram>>
// CHECK:      %Y = loop.to_tensor %y_1 : memref<2x3x4xf32, #loop.space<dram>> -> tensor<2x3x4xf32>
// CHECK-NEXT: %h_n_1 = loop.to_tensor %h_n : memref<3x2x4xf32, #loop.space<dram>> -> tensor<3x2x4xf32>
// CHECK-NEXT: func.return %Y, %h_n_1
