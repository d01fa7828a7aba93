// An index that is a loop counter plus a constant ranges over a known interval: the
// verifier refuses one that leaves its dimension, naming the interval and the memory.
// RUN: not rnnc %s --split-input-file 2>&1 | filecheck %s

func.func @load_past_the_end(%X: tensor<4xf32>) {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (4) par (1) {
    %v = loop.load %x[%i + 1] : memref<4xf32, #loop.space<sram>>
  }
  func.return
}
// CHECK: static_bounds.mlir:8:5: error: loop.load: index 0 ranges over [1, 4], outside dimension 0 of memref<4xf32, #loop.space<sram>> (size 4)

// -----

func.func @store_in_a_longer_loop() {
  %m = loop.alloc : memref<2x4xf32, #loop.space<sram>>
  loop.foreach (%i, %j) in (2, 6) par (1, 1) {
    %v = arith.constant 1.0 : f32
    loop.store %v, %m[%i, %j] : memref<2x4xf32, #loop.space<sram>>
  }
  func.return
}
// CHECK: static_bounds.mlir:20:5: error: loop.store: index 1 ranges over [0, 5], outside dimension 1 of memref<2x4xf32, #loop.space<sram>> (size 4)

// -----

func.func @reduce_segment(%X: tensor<3xf32>) {
  %x = loop.from_tensor %X : tensor<3xf32> -> memref<3xf32, #loop.space<sram>>
  %s = loop.reduce add par 1 vec 1 (%k in 3) {
    %v = loop.load %x[%k] : memref<3xf32, #loop.space<sram>>
    loop.yield %v : f32
  } concat (%k2 in 4) {
    %w = loop.load %x[%k2] : memref<3xf32, #loop.space<sram>>
    loop.yield %w : f32
  } : f32
  func.return
}
// CHECK: static_bounds.mlir:34:5: error: loop.load: index 0 ranges over [0, 3], outside dimension 0 of memref<3xf32, #loop.space<sram>> (size 3)

// -----

func.func @time_loop(%X: tensor<3xf32>) {
  %x = loop.from_tensor %X : tensor<3xf32> -> memref<3xf32, #loop.space<sram>>
  loop.sequential %t in 3 {
    loop.foreach (%i) in (1) par (1) {
      %v = loop.load %x[%t + 1] : memref<3xf32, #loop.space<sram>>
    }
  }
  func.return
}
// CHECK: static_bounds.mlir:47:7: error: loop.load: index 0 ranges over [1, 3], outside dimension 0 of memref<3xf32, #loop.space<sram>> (size 3)
