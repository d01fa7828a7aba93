// rnn-decompose: the BLAS-style program, one loop nest per kernel inside the time loop,
// with full-size (H) on-chip buffers between kernels. The function keeps its tensor type.
// RUN: rnnc %s -p rnn-decompose | filecheck %s
// RUN: rnnc %s -p rnn-decompose | rnnc - | filecheck %s
// RUN: rnnc %s -p rnn-decompose --print-op-generic | rnnc - | filecheck %s

func.func @main(%X: tensor<5x1x3xf32>, %W: tensor<1x16x3xf32>, %R: tensor<1x16x4xf32>, %B: tensor<1x32xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>) {
  %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 4 : i64}
      : (tensor<5x1x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y, %Y_h : tensor<5x1x1x4xf32>, tensor<1x1x4xf32>
}

// CHECK-LABEL: func.func @main(%X: tensor<5x1x3xf32>, %W: tensor<1x16x3xf32>, %R: tensor<1x16x4xf32>, %B: tensor<1x32xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>)
// CHECK-NOT:   rnn.lstm
// CHECK-DAG:   %biases = loop.from_tensor %B : tensor<1x32xf32> -> memref<1x32xf32, #loop.space<sram>>
// CHECK-DAG:   %x = loop.from_tensor %X : tensor<5x1x3xf32> -> memref<5x1x3xf32, #loop.space<dram>>
// CHECK-DAG:   %w = loop.from_tensor %W : tensor<1x16x3xf32> -> memref<1x16x3xf32, #loop.space<sram>>
// CHECK-DAG:   %r = loop.from_tensor %R : tensor<1x16x4xf32> -> memref<1x16x4xf32, #loop.space<sram>>
// CHECK-DAG:   %h = loop.alloc : memref<1x1x4xf32, #loop.space<sram>>
// CHECK-DAG:   %c = loop.alloc : memref<1x1x4xf32, #loop.space<sram>>
// CHECK-DAG:   %y = loop.alloc : memref<5x1x1x4xf32, #loop.space<dram>>

// The input and recurrent biases are summed once, before the time loop.
// CHECK:       %bias = loop.alloc : memref<1x16xf32, #loop.space<sram>>
// CHECK-NEXT:  loop.foreach (%d, %j) in (1, 16) par (1, 1) {
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j] : memref<1x32xf32, #loop.space<sram>>
// CHECK-NEXT:    %{{.*}} = loop.load %biases[%d, %j + 16] : memref<1x32xf32, #loop.space<sram>>

// 23 buffers of H elements between the kernels.
// CHECK-COUNT-23: = loop.alloc : memref<1x1x4xf32, #loop.space<sram>>
// CHECK:       loop.sequential %t in 5 {

// Gate i: W_i·x_t, then R_i·h, each its own nest with a reduction, into a buffer ...
// CHECK-NEXT:    loop.foreach (%[[D:[a-z0-9_]+]], %[[B:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) in (1, 1, 4) par (1, 1, 1) {
// CHECK-NEXT:      %[[XW:xw_i[_0-9]*]] = loop.reduce add par 1 vec 1 (%k in 3) {
// CHECK-NEXT:        %{{.*}} = loop.load %w[%[[D]], %[[I]], %k] : memref<1x16x3xf32, #loop.space<sram>>
// CHECK-NEXT:        %{{.*}} = loop.load %x[%t, %[[B]], %k] : memref<5x1x3xf32, #loop.space<dram>>
// CHECK-NEXT:        %{{.*}} = loop.mul
// CHECK-NEXT:        loop.yield
// CHECK-NEXT:      } : f32
// CHECK-NEXT:      loop.store %[[XW]], %{{xw_i[_0-9]*}}[%[[D]], %[[B]], %[[I]]] : memref<1x1x4xf32, #loop.space<sram>>
// CHECK-NEXT:    }
// CHECK-NEXT:    loop.foreach
// CHECK-NEXT:      %{{hr_i[_0-9]*}} = loop.reduce add par 1 vec 1 (%k_1 in 4) {
// CHECK-NEXT:        %{{.*}} = loop.load %r[%{{.*}}, %{{.*}}, %k_1] : memref<1x16x4xf32, #loop.space<sram>>
// CHECK-NEXT:        %{{.*}} = loop.load %h[%{{.*}}, %{{.*}}, %k_1] : memref<1x1x4xf32, #loop.space<sram>>
// ... their sum, the bias add ...
// CHECK:           %{{s_i[_0-9]*}} = loop.add
// CHECK:           %{{.*}} = loop.load %bias[%{{.*}}, %{{.*}}] : memref<1x16xf32, #loop.space<sram>>
// CHECK-NEXT:      %{{a_i[_0-9]*}} = loop.add
// The other gates read their row blocks of W and R.
// CHECK:           loop.load %w[%{{.*}}, %{{.*}} + 4, %{{.*}}]
// CHECK:           loop.load %w[%{{.*}}, %{{.*}} + 8, %{{.*}}]
// CHECK:           loop.load %w[%{{.*}}, %{{.*}} + 12, %{{.*}}]
// Each activation and each Hadamard product is a kernel of its own.
// CHECK:           %{{i[_0-9]*}} = loop.sigmoid
// CHECK:           %{{j[_0-9]*}} = loop.tanh
// CHECK:           %{{f[_0-9]*}} = loop.sigmoid
// CHECK:           %{{fc[_0-9]*}} = loop.mul
// CHECK:           %{{ij[_0-9]*}} = loop.mul
// The state update writes c and h in place (the kernels run one after another).
// CHECK:           loop.store %{{.*}}, %c[
// CHECK:           %{{o[_0-9]*}} = loop.sigmoid
// CHECK:           %{{tc[_0-9]*}} = loop.tanh
// CHECK:           %[[HN:h_new[_0-9]*]] = loop.mul
// CHECK-NEXT:      loop.store %[[HN]], %h[
// The final state is read out of the kernel that writes it (every step; the last remains):
// no nest copies it after the time loop.
// CHECK-NEXT:      loop.store %[[HN]], %y_h[
// CHECK-NEXT:      loop.store %[[HN]], %y[%t,
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NOT:   loop.foreach
// CHECK:       %{{.*}} = loop.to_tensor %y_h
// CHECK:       %{{.*}} = loop.to_tensor %y
