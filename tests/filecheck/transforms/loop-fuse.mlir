// loop-fuse on the decomposed LSTM: the paper's fused cell. In the time loop one foreach
// over the hidden units holds the four gates' dot products over [x, h] (one reduction of
// length D + H each) and the element-wise update; no H-sized buffer is left between
// kernels, and h is double-buffered (step t reads buffer t, writes buffer t + 1).
// RUN: rnnc %s -p rnn-decompose,loop-fuse | filecheck %s
// RUN: rnnc %s -p rnn-decompose,loop-fuse | rnnc - | filecheck %s
// RUN: rnnc %s -p rnn-decompose,loop-fuse --print-op-generic | rnnc - | filecheck %s
// Fusing twice changes nothing.
// RUN: rnnc %s -p rnn-decompose,loop-fuse | rnnc - -p loop-fuse | filecheck %s

func.func @main(%X: tensor<5x1x3xf32>, %W: tensor<1x16x3xf32>, %R: tensor<1x16x4xf32>, %B: tensor<1x32xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>) {
  %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R bias %B {hidden_size = 4 : i64}
      : (tensor<5x1x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x32xf32>) -> (tensor<5x1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y, %Y_h : tensor<5x1x1x4xf32>, tensor<1x1x4xf32>
}

// CHECK-LABEL: func.func @main(%X: tensor<5x1x3xf32>
// CHECK:       %h = loop.alloc buffers 2 : memref<1x1x4xf32, #loop.space<sram>>
// CHECK-NEXT:  %c = loop.alloc : memref<1x1x4xf32, #loop.space<sram>>
// CHECK-NEXT:  %y = loop.alloc : memref<5x1x1x4xf32, #loop.space<dram>>
// CHECK-NEXT:  %bias = loop.alloc : memref<1x16xf32, #loop.space<sram>>
// The initial state goes into buffer 0.
// CHECK:       loop.store %{{.*}}, %h[%{{.*}}] buffer 0
// CHECK:       %y_h = loop.alloc : memref<1x1x4xf32, #loop.space<dram>>
// CHECK-NOT:   loop.alloc
// CHECK:       loop.sequential %t in 5 {
// CHECK-NEXT:    loop.foreach (%[[D:[a-z0-9_]+]], %[[B:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) in (1, 1, 4) par (1, 1, 1) {
// CHECK-NOT:       loop.foreach
// CHECK-NOT:       loop.alloc
// CHECK:           = loop.reduce add par 1 vec 1 (%{{k[_0-9]*}} in 3) {
// CHECK-NEXT:        loop.load %w[%[[D]], %[[I]] + 4, %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %x[%t, %[[B]], %{{k[_0-9]*}}]
// CHECK:           } concat (%{{k[_0-9]*}} in 4) {
// CHECK-NEXT:        loop.load %r[%[[D]], %[[I]] + 4, %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %h[%[[D]], %[[B]], %{{k[_0-9]*}}] buffer %t :
// CHECK:           } : f32
// CHECK-NEXT:      loop.load %bias[%[[D]], %[[I]] + 4]
// CHECK:           = loop.reduce add par 1 vec 1 (%{{k[_0-9]*}} in 3) {
// CHECK-NEXT:        loop.load %w[%[[D]], %[[I]] + 8, %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %x[%t, %[[B]], %{{k[_0-9]*}}]
// CHECK:           } concat (%{{k[_0-9]*}} in 4) {
// CHECK-NEXT:        loop.load %r[%[[D]], %[[I]] + 8, %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %h[%[[D]], %[[B]], %{{k[_0-9]*}}] buffer %t :
// CHECK:           } : f32
// CHECK-NEXT:      loop.load %bias[%[[D]], %[[I]] + 8]
// CHECK:           = loop.reduce add par 1 vec 1 (%{{k[_0-9]*}} in 3) {
// CHECK-NEXT:        loop.load %w[%[[D]], %[[I]], %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %x[%t, %[[B]], %{{k[_0-9]*}}]
// CHECK:           } concat (%{{k[_0-9]*}} in 4) {
// CHECK-NEXT:        loop.load %r[%[[D]], %[[I]], %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %h[%[[D]], %[[B]], %{{k[_0-9]*}}] buffer %t :
// CHECK:           } : f32
// CHECK-NEXT:      loop.load %bias[%[[D]], %[[I]]]
// CHECK:           = loop.reduce add par 1 vec 1 (%{{k[_0-9]*}} in 3) {
// CHECK-NEXT:        loop.load %w[%[[D]], %[[I]] + 12, %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %x[%t, %[[B]], %{{k[_0-9]*}}]
// CHECK:           } concat (%{{k[_0-9]*}} in 4) {
// CHECK-NEXT:        loop.load %r[%[[D]], %[[I]] + 12, %{{k[_0-9]*}}]
// CHECK-NEXT:        loop.load %h[%[[D]], %[[B]], %{{k[_0-9]*}}] buffer %t :
// CHECK:           } : f32
// CHECK-NEXT:      loop.load %bias[%[[D]], %[[I]] + 12]
// CHECK:           %[[C:c_new[_0-9]*]] = loop.add
// CHECK-NEXT:      loop.store %[[C]], %c[%[[D]], %[[B]], %[[I]]] :
// CHECK-NEXT:      %{{.*}} = loop.tanh %[[C]] : f32
// CHECK-NEXT:      %[[H:h_new[_0-9]*]] = loop.mul
// CHECK-NEXT:      loop.store %[[H]], %h[%[[D]], %[[B]], %[[I]]] buffer %t + 1 :
// The final state is stored where h is written (the last step's store remains).
// CHECK-NEXT:      loop.store %[[H]], %y_h[%[[D]], %[[B]], %[[I]]] :
// CHECK-NEXT:      loop.store %[[H]], %y[%t, %[[D]], %[[B]], %[[I]]] :
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// No nest after the time loop.
// CHECK-NEXT:  loop.to_tensor
