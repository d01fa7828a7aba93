// Verifier diagnostics name the operand or property and what was expected.
// RUN: not rnnc %s --split-input-file 2>&1 | filecheck %s

func.func @indices(%X: tensor<4x8xf32>) {
  %x = loop.from_tensor %X : tensor<4x8xf32> -> memref<4x8xf32, #loop.space<sram>>
  loop.foreach (%i) in (4) par (1) {
    %v = loop.load %x[%i] : memref<4x8xf32, #loop.space<sram>>
  }
  func.return
}
// CHECK: verify_errors.mlir:7:5: error: loop.load: operand 'indices' has 1 values, expected 2 (one per dimension of memref<4x8xf32, #loop.space<sram>>)

// -----

func.func @value_type(%i: index) {
  %m = loop.alloc : memref<4xf32, #loop.space<sram>>
  %v = arith.constant 1.0 : f64
  "loop.store"(%v, %m, %i) <{offsets = array<i64: 0>, operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (f64, memref<4xf32, #loop.space<sram>>, index) -> ()
  func.return
}
// CHECK: verify_errors.mlir:18:3: error: loop.store: operand 'value' has type f64, expected f32 (the element type of memref<4xf32, #loop.space<sram>>)

// -----

func.func @no_selector() {
  %h = loop.alloc buffers 2 : memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (4) par (1) {
    %v = loop.load %h[%i] : memref<4xf32, #loop.space<sram>>
  }
  func.return
}
// CHECK: verify_errors.mlir:28:5: error: loop.load: the memory has 2 buffers, so the access needs a buffer selector ('buffer %t + c')

// -----

func.func @selector() {
  %h = loop.alloc : memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (4) par (1) {
    %v = loop.load %h[%i] buffer 1 : memref<4xf32, #loop.space<sram>>
  }
  func.return
}
// CHECK: verify_errors.mlir:39:5: error: loop.load: operand 'buffer' given, but the memory is single-buffered

// -----

func.func @space() {
  %h = loop.alloc : memref<4xf32>
  func.return
}
// CHECK: verify_errors.mlir:48:3: error: loop.alloc: the result must be a memref in a #loop.space memory space, got memref<4xf32>

// -----

func.func @unknown_space() {
  %h = loop.alloc : memref<4xf32, #loop.space<flash>>
  func.return
}
// CHECK: verify_errors.mlir:56:52: error: #loop.space: unknown memory space 'flash' (expected one of dram, sram, reg)

// -----

func.func @par() {
  loop.foreach (%i, %j) in (4, 2) par (2) {
  }
  func.return
}
// CHECK: verify_errors.mlir:64:3: error: loop.foreach: property 'par' has 1 entries, expected 2 (one per dimension)

// -----

func.func @extent() {
  loop.foreach (%i) in (0) par (1) {
  }
  func.return
}
// CHECK: verify_errors.mlir:73:3: error: loop.foreach: extents must be >= 1, got [0]

// -----

func.func @combiner(%X: tensor<4xf32>) {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (1) par (1) {
    %s = loop.reduce avg par 1 vec 1 (%k in 4) {
      %v = loop.load %x[%k] : memref<4xf32, #loop.space<sram>>
      loop.yield %v : f32
    } : f32
  }
  func.return
}
// CHECK: verify_errors.mlir:84:22: error: loop.reduce: unknown combiner 'avg' (expected one of add, mul, max, min)

// -----

func.func @yield_type(%X: tensor<4xf32>) {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (1) par (1) {
    %s = loop.reduce add par 1 vec 1 (%k in 4) {
      %v = loop.load %x[%k] : memref<4xf32, #loop.space<sram>>
      loop.yield %v : f32
    } : f64
  }
  func.return
}
// CHECK: verify_errors.mlir:98:5: error: loop.reduce: a segment yields f32, expected f64 (the result type)

// -----

func.func @store_in_reduce(%X: tensor<4xf32>) {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (1) par (1) {
    %s = loop.reduce add par 1 vec 1 (%k in 4) {
      %v = loop.load %x[%k] : memref<4xf32, #loop.space<sram>>
      loop.store %v, %y[%k] : memref<4xf32, #loop.space<sram>>
      loop.yield %v : f32
    } : f32
  }
  func.return
}
// CHECK: verify_errors.mlir:113:5: error: loop.reduce: the body of a reduction only reads memory; found loop.store

// -----

func.func @alpha(%a: f32) {
  %r = "loop.leaky_relu"(%a) : (f32) -> f32
  func.return
}
// CHECK: verify_errors.mlir:126:3: error: loop.leaky_relu: takes alpha, got none

// -----

func.func @no_alpha(%a: f32) {
  %r = "loop.sigmoid"(%a) <{alpha = 1.0 : f64}> : (f32) -> f32
  func.return
}
// CHECK: verify_errors.mlir:134:3: error: loop.sigmoid: takes no parameters, got alpha

// -----

func.func @to_tensor() -> tensor<4xf32> {
  %h = loop.alloc buffers 2 : memref<4xf32, #loop.space<sram>>
  %t = loop.to_tensor %h : memref<4xf32, #loop.space<sram>> -> tensor<4xf32>
  func.return %t : tensor<4xf32>
}
// CHECK: verify_errors.mlir:143:3: error: loop.to_tensor: operand 'memref' has 2 buffers, expected a single-buffered memory

// -----

func.func @from_tensor(%X: tensor<4xf32>) {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<5xf32, #loop.space<sram>>
  func.return
}
// CHECK: verify_errors.mlir:151:3: error: loop.from_tensor: the tensor tensor<4xf32> and the memref memref<5xf32, #loop.space<sram>> must have the same shape and element type

// -----

func.func @offsets(%i: index) {
  %h = loop.alloc : memref<4x4xf32, #loop.space<sram>>
  %v = "loop.load"(%h, %i, %i) <{offsets = array<i64: 0>, operandSegmentSizes = array<i32: 1, 2, 0>}> : (memref<4x4xf32, #loop.space<sram>>, index, index) -> f32
  func.return
}
// CHECK: verify_errors.mlir:160:3: error: loop.load: property 'offsets' has 1 entries, expected 2 (one per dimension of memref<4x4xf32, #loop.space<sram>>)

// -----

// The combiner is an enum property: the generic form names the allowed values.
func.func @generic_combiner(%X: tensor<4xf32>) {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  loop.foreach (%i) in (1) par (1) {
    %s = "loop.reduce"() <{combiner = #loop<combiner avg>, extents = array<i64: 4>, par = 1 : i64, vec = 1 : i64}> ({
    ^bb0(%k: index):
      %v = loop.load %x[%k] : memref<4xf32, #loop.space<sram>>
      loop.yield %v : f32
    }) : () -> f32
  }
  func.return
}
// CHECK: verify_errors.mlir:171:54: error: Expected `add`, `mul`, `max`, or `min`.
