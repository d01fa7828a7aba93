// loop-zero-init: a store of +0.0 over the whole of an on-chip memory, in a nest that runs
// before anything else uses it, becomes the memory's initial contents (`loop.alloc zero`);
// a nest left with no stores is erased. An initial state read from an input stays a nest.
// RUN: rnnc %s --split-input-file -p loop-zero-init | filecheck %s

// The zero state of an LSTM without initial states: both stores fold, the nest goes.
func.func @zero_state(%X: tensor<4xf32>) -> tensor<4xf32> {
  %h = loop.alloc buffers 2 : memref<4xf32, #loop.space<sram>>
  %c = loop.alloc : memref<4xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<dram>>
  loop.foreach (%i) in (4) par (1) {
    %zero = arith.constant 0.000000e+00 : f32
    loop.store %zero, %h[%i] buffer 0 : memref<4xf32, #loop.space<sram>>
    loop.store %zero, %c[%i] : memref<4xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (4) par (1) {
    %u = loop.load %h[%i] buffer 0 : memref<4xf32, #loop.space<sram>>
    %v = loop.load %c[%i] : memref<4xf32, #loop.space<sram>>
    %s = loop.add %u, %v : f32
    loop.store %s, %y[%i] : memref<4xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
}
// CHECK-LABEL: func.func @zero_state
// CHECK-NEXT:    %h = loop.alloc zero buffers 2 : memref<4xf32, #loop.space<sram>>
// CHECK-NEXT:    %c = loop.alloc zero : memref<4xf32, #loop.space<sram>>
// CHECK-NEXT:    %y = loop.alloc : memref<4xf32, #loop.space<dram>>
// CHECK-NEXT:    loop.foreach
// CHECK-NEXT:      loop.load %h[%{{.*}}] buffer 0

// -----

// h0 is read from an input: that store stays; c's zero folds.
func.func @given_h0(%H0: tensor<4xf32>) -> tensor<4xf32> {
  %h0 = loop.from_tensor %H0 : tensor<4xf32> -> memref<4xf32, #loop.space<dram>>
  %h = loop.alloc : memref<4xf32, #loop.space<sram>>
  %c = loop.alloc : memref<4xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<dram>>
  loop.foreach (%i) in (4) par (1) {
    %zero = arith.constant 0.000000e+00 : f32
    %a = loop.load %h0[%i] : memref<4xf32, #loop.space<dram>>
    loop.store %a, %h[%i] : memref<4xf32, #loop.space<sram>>
    loop.store %zero, %c[%i] : memref<4xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (4) par (1) {
    %u = loop.load %h[%i] : memref<4xf32, #loop.space<sram>>
    %v = loop.load %c[%i] : memref<4xf32, #loop.space<sram>>
    %s = loop.add %u, %v : f32
    loop.store %s, %y[%i] : memref<4xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
}
// CHECK-LABEL: func.func @given_h0
// CHECK:         %h = loop.alloc : memref<4xf32, #loop.space<sram>>
// CHECK-NEXT:    %c = loop.alloc zero : memref<4xf32, #loop.space<sram>>
// CHECK:         loop.foreach
// CHECK-NEXT:      loop.load %h0
// CHECK-NEXT:      loop.store %{{.*}}, %h[%{{.*}}]
// CHECK-NEXT:    }

// -----

// Left alone: -0.0 (not the zero a memory starts as), a store over part of the memory,
// a memory read before the nest, and an off-chip memory.
func.func @refused(%X: tensor<4xf32>) -> tensor<4xf32> {
  %a = loop.alloc : memref<4xf32, #loop.space<sram>>
  %b = loop.alloc : memref<8xf32, #loop.space<sram>>
  %c = loop.alloc : memref<4xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<dram>>
  loop.foreach (%i) in (4) par (1) {
    %one = arith.constant 1.000000e+00 : f32
    loop.store %one, %c[%i] : memref<4xf32, #loop.space<sram>>
  }
  loop.foreach (%i) in (4) par (1) {
    %negative = arith.constant -0.000000e+00 : f32
    %zero = arith.constant 0.000000e+00 : f32
    loop.store %negative, %a[%i] : memref<4xf32, #loop.space<sram>>
    loop.store %zero, %b[%i] : memref<8xf32, #loop.space<sram>>
    loop.store %zero, %c[%i] : memref<4xf32, #loop.space<sram>>
    loop.store %zero, %y[%i] : memref<4xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
}
// CHECK-LABEL: func.func @refused
// CHECK-NOT:     loop.alloc zero
// CHECK:         loop.store %negative, %a
// CHECK-NEXT:    loop.store %zero, %b
// CHECK-NEXT:    loop.store %zero, %c
// CHECK-NEXT:    loop.store %zero, %y
