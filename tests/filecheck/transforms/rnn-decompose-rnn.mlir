// rnn-decompose of a vanilla RNN: H_t = tanh(W·x_t + R·H_{t-1} + Wb + Rb), one gate, four
// kernels per step, the last one writing the new state.
// Numerics of the same model: tests/interpreters/test_loop_property.py (explicit example).
// RUN: rnnc %s -p rnn-decompose | filecheck %s
// RUN: rnnc %s -p rnn-decompose --print-op-generic | rnnc - | filecheck %s

func.func @main(%X: tensor<5x1x3xf32>, %W: tensor<1x4x3xf32>, %R: tensor<1x4x4xf32>, %B: tensor<1x8xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>) {
  %Y, %Y_h = rnn.rnn %X, %W, %R bias %B {hidden_size = 4 : i64}
      : (tensor<5x1x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<1x8xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y, %Y_h : tensor<5x1x1x4xf32>, tensor<1x1x4xf32>
}

// CHECK-LABEL: func.func @main
// CHECK-NOT:   rnn.rnn
// CHECK:       %h = loop.alloc : memref<1x1x4xf32, #loop.space<sram>>
// CHECK:       %bias = loop.alloc : memref<1x4xf32, #loop.space<sram>>
// CHECK-NEXT:  loop.foreach (%d, %j) in (1, 4) par (1, 1) {
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j] : memref<1x8xf32, #loop.space<sram>>
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j + 4] : memref<1x8xf32, #loop.space<sram>>
// Four intermediate buffers of H elements, then the time loop.
// CHECK-COUNT-4: = loop.alloc : memref<1x1x4xf32, #loop.space<sram>>
// CHECK-NEXT:  loop.sequential %t in 5 {
// CHECK-NEXT:    loop.foreach (%[[D:[a-z0-9_]+]], %[[B:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) in (1, 1, 4) par (1, 1, 1) {
// CHECK-NEXT:      %[[XW:xw_h[_0-9]*]] = loop.reduce add par 1 vec 1 (%k in 3) {
// CHECK-NEXT:        %{{.*}} = loop.load %w[%[[D]], %[[I]], %k] : memref<1x4x3xf32, #loop.space<sram>>
// CHECK-NEXT:        %{{.*}} = loop.load %x[%t, %[[B]], %k] : memref<5x1x3xf32, #loop.space<dram>>
// CHECK:           loop.store %[[XW]], %xw_h[%[[D]], %[[B]], %[[I]]]
// CHECK:         loop.foreach
// CHECK-NEXT:      %{{hr_h[_0-9]*}} = loop.reduce add par 1 vec 1 (%k_1 in 4) {
// CHECK-NEXT:        %{{.*}} = loop.load %r[%{{.*}}, %{{.*}}, %k_1] : memref<1x4x4xf32, #loop.space<sram>>
// CHECK-NEXT:        %{{.*}} = loop.load %h[%{{.*}}, %{{.*}}, %k_1] : memref<1x1x4xf32, #loop.space<sram>>
// CHECK:           %{{s_h[_0-9]*}} = loop.add
// CHECK:           loop.load %bias[%{{.*}}, %{{.*}}] : memref<1x4xf32, #loop.space<sram>>
// CHECK-NEXT:      %{{a_h[_0-9]*}} = loop.add
// CHECK:           %[[HN:h_new[_0-9]*]] = loop.tanh
// CHECK-NEXT:      loop.store %[[HN]], %h[
// CHECK-NEXT:      loop.store %[[HN]], %y_h[
// CHECK-NEXT:      loop.store %[[HN]], %y[%t,
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NOT:   loop.foreach
// CHECK:       loop.to_tensor %y_h
// CHECK:       loop.to_tensor %y
