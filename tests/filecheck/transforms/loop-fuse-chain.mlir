// loop-fuse is not about RNNs: a matrix-vector product, a bias add and a ReLU written
// directly in the loop dialect become one nest, and the two intermediate buffers go.
// RUN: rnnc %s -p loop-fuse | filecheck %s

func.func @mlp(%W: tensor<8x4xf32>, %X: tensor<4xf32>, %B: tensor<8xf32>) -> tensor<8xf32> {
  %w = loop.from_tensor %W : tensor<8x4xf32> -> memref<8x4xf32, #loop.space<sram>>
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  %b = loop.from_tensor %B : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
  %t1 = loop.alloc : memref<8xf32, #loop.space<sram>>
  %t2 = loop.alloc : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<8xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %dot = loop.reduce add par 1 vec 1 (%k in 4) {
      %wv = loop.load %w[%i, %k] : memref<8x4xf32, #loop.space<sram>>
      %xv = loop.load %x[%k] : memref<4xf32, #loop.space<sram>>
      %p = loop.mul %wv, %xv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %t1[%i] : memref<8xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (8) par (1) {
    %u = loop.load %t1[%i] : memref<8xf32, #loop.space<sram>>
    %bv = loop.load %b[%i] : memref<8xf32, #loop.space<sram>>
    %s = loop.add %u, %bv : f32
    loop.store %s, %t2[%i] : memref<8xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (8) par (1) {
    %v = loop.load %t2[%i] : memref<8xf32, #loop.space<sram>>
    %r = loop.relu %v : f32
    loop.store %r, %y[%i] : memref<8xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<8xf32, #loop.space<dram>> -> tensor<8xf32>
  func.return %Y : tensor<8xf32>
}

// CHECK-LABEL: func.func @mlp
// CHECK-NOT:   %t1
// CHECK-NOT:   %t2
// CHECK:       %y = loop.alloc : memref<8xf32, #loop.space<dram>>
// CHECK-NEXT:  loop.foreach (%i) in (8) par (1) {
// CHECK-NEXT:    %dot = loop.reduce add par 1 vec 1 (%k in 4) {
// CHECK:         } : f32
// CHECK-NEXT:    %bv = loop.load %b[%i] : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT:    %s = loop.add %dot, %bv : f32
// CHECK-NEXT:    %r = loop.relu %s : f32
// CHECK-NEXT:    loop.store %r, %y[%i] : memref<8xf32, #loop.space<dram>>
// CHECK-NEXT:  }
// CHECK-NEXT:  %Y = loop.to_tensor %y
