// loop-fuse leaves nests alone where fusing them would be wrong: the consumer reads the
// producer's output at another index than the one written in the same iteration.
// RUN: rnnc %s --split-input-file > %t.before
// RUN: rnnc %s --split-input-file -p loop-fuse > %t.after
// RUN: diff %t.before %t.after
// RUN: filecheck %s --input-file=%t.after

// The consumer reads element 7 - i: iteration i would need what iteration 7 - i writes.
func.func @reversed(%X: tensor<8xf32>) -> tensor<8xf32> {
  %x = loop.from_tensor %X : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
  %t = loop.alloc : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<8xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %v = loop.load %x[%i] : memref<8xf32, #loop.space<sram>>
    %e = loop.tanh %v : f32
    loop.store %e, %t[%i] : memref<8xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (8) par (1) {
    %last = arith.constant 7 : index
    %j = arith.subi %last, %i : index
    %u = loop.load %t[%j] : memref<8xf32, #loop.space<sram>>
    loop.store %u, %y[%i] : memref<8xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<8xf32, #loop.space<dram>> -> tensor<8xf32>
  func.return %Y : tensor<8xf32>
}
// CHECK-LABEL: func.func @reversed
// CHECK-COUNT-2: loop.foreach (%{{i[_0-9]*}}) in (8) par (1) {

// -----

// The consumer reduces over the producer's whole output (a second matrix-vector product):
// every iteration needs every element.
func.func @matvec_of_matvec(%W: tensor<8x8xf32>, %X: tensor<8xf32>) -> tensor<8xf32> {
  %w = loop.from_tensor %W : tensor<8x8xf32> -> memref<8x8xf32, #loop.space<sram>>
  %x = loop.from_tensor %X : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
  %t = loop.alloc : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<8xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %dot = loop.reduce add par 1 vec 1 (%k in 8) {
      %wv = loop.load %w[%i, %k] : memref<8x8xf32, #loop.space<sram>>
      %xv = loop.load %x[%k] : memref<8xf32, #loop.space<sram>>
      %p = loop.mul %wv, %xv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %t[%i] : memref<8xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (8) par (1) {
    %dot = loop.reduce add par 1 vec 1 (%k in 8) {
      %wv = loop.load %w[%i, %k] : memref<8x8xf32, #loop.space<sram>>
      %tv = loop.load %t[%k] : memref<8xf32, #loop.space<sram>>
      %p = loop.mul %wv, %tv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %y[%i] : memref<8xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<8xf32, #loop.space<dram>> -> tensor<8xf32>
  func.return %Y : tensor<8xf32>
}
// CHECK-LABEL: func.func @matvec_of_matvec
// CHECK-COUNT-2: loop.foreach (%{{i[_0-9]*}}) in (8) par (1) {

// -----

// Different iteration spaces (8 and 4 iterations) are not fused.
func.func @spaces(%X: tensor<8xf32>) -> tensor<4xf32> {
  %x = loop.from_tensor %X : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
  %t = loop.alloc : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<dram>>
  loop.foreach (%i) in (8) par (1) {
    %v = loop.load %x[%i] : memref<8xf32, #loop.space<sram>>
    loop.store %v, %t[%i] : memref<8xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (4) par (1) {
    %u = loop.load %t[%i] : memref<8xf32, #loop.space<sram>>
    loop.store %u, %y[%i] : memref<4xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
}
// CHECK-LABEL: func.func @spaces
// CHECK: loop.foreach (%i) in (8) par (1) {
// CHECK: loop.foreach (%{{i[_0-9]*}}) in (4) par (1) {
