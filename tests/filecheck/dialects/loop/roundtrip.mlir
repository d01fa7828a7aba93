// The loop dialect's custom syntax round-trips, and so does the generic form.
// RUN: rnnc %s | filecheck %s
// RUN: rnnc %s | rnnc - | filecheck %s
// RUN: rnnc %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// RUN: rnnc %s --print-op-generic | rnnc - | filecheck %s

func.func @main(%X: tensor<3x4xf32>, %W: tensor<8x4xf32>) -> tensor<3x8xf32> {
  %x = loop.from_tensor %X : tensor<3x4xf32> -> memref<3x4xf32, #loop.space<dram>>
  %w = loop.from_tensor %W : tensor<8x4xf32> -> memref<8x4xf32, #loop.space<sram>>
  %h = loop.alloc buffers 2 : memref<8xf32, #loop.space<sram>>
  %y = loop.alloc : memref<3x8xf32, #loop.space<dram>>
  %acc = loop.alloc : memref<1xf32, #loop.space<reg>>
  loop.foreach (%i) in (8) par (2) {
    %zero = arith.constant 0.000000e+00 : f32
    loop.store %zero, %h[%i] buffer 0 : memref<8xf32, #loop.space<sram>>
  }
  loop.sequential %t in 3 {
    loop.foreach (%j) in (8) par (4) {
      %dot = loop.reduce add par 2 vec 4 (%k in 4) {
        %wv = loop.load %w[%j, %k] : memref<8x4xf32, #loop.space<sram>>
        %xv = loop.load %x[%t, %k] : memref<3x4xf32, #loop.space<dram>>
        %p = loop.mul %wv, %xv : f32
        loop.yield %p : f32
      } concat (%m in 8) {
        %hv = loop.load %h[%m] buffer %t : memref<8xf32, #loop.space<sram>>
        loop.yield %hv : f32
      } : f32
      %top = loop.reduce max par 1 vec 1 (%n in 8) {
        %hn = loop.load %h[%n] buffer %t : memref<8xf32, #loop.space<sram>>
        loop.yield %hn : f32
      } : f32
      %prev = loop.load %h[%j - 0] buffer %t - 3 : memref<8xf32, #loop.space<sram>>
      %a0 = loop.add %dot, %top : f32
      %a1 = loop.sub %a0, %prev : f32
      %a2 = loop.max %a1, %prev : f32
      %a3 = loop.min %a2, %dot : f32
      %s0 = loop.sigmoid %a3 : f32
      %s1 = loop.tanh %s0 : f32
      %s2 = loop.relu %s1 : f32
      %s3 = loop.affine %s2 alpha 2.0 beta 0.5 : f32
      %s4 = loop.leaky_relu %s3 alpha 0.01 : f32
      %s5 = loop.thresholded_relu %s4 alpha 1.0 : f32
      %s6 = loop.scaled_tanh %s5 alpha 0.5 beta 2.0 : f32
      %s7 = loop.hard_sigmoid %s6 alpha 0.2 beta 0.5 : f32
      %s8 = loop.elu %s7 alpha 1.0 : f32
      %s9 = loop.softsign %s8 : f32
      %s10 = loop.softplus %s9 : f32
      %first = arith.constant 0 : index
      %is0 = arith.cmpi eq, %j, %first : index
      %v = loop.select %is0, %s10, %a0 : f32
      loop.store %v, %h[%j] buffer %t + 1 : memref<8xf32, #loop.space<sram>>
      loop.store %v, %y[%t, %j] : memref<3x8xf32, #loop.space<dram>>
    } {note = "kept"}
  }
  %Y = loop.to_tensor %y : memref<3x8xf32, #loop.space<dram>> -> tensor<3x8xf32>
  func.return %Y : tensor<3x8xf32>
}

// CHECK:      %x = loop.from_tensor %X : tensor<3x4xf32> -> memref<3x4xf32, #loop.space<dram>>
// CHECK-NEXT: %w = loop.from_tensor %W : tensor<8x4xf32> -> memref<8x4xf32, #loop.space<sram>>
// CHECK-NEXT: %h = loop.alloc buffers 2 : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT: %y = loop.alloc : memref<3x8xf32, #loop.space<dram>>
// CHECK-NEXT: %acc = loop.alloc : memref<1xf32, #loop.space<reg>>
// CHECK-NEXT: loop.foreach (%i) in (8) par (2) {
// CHECK-NEXT:   %zero = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   loop.store %zero, %h[%i] buffer 0 : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT: }
// CHECK-NEXT: loop.sequential %t in 3 {
// CHECK-NEXT:   loop.foreach (%j) in (8) par (4) {
// CHECK-NEXT:     %dot = loop.reduce add par 2 vec 4 (%k in 4) {
// CHECK-NEXT:       %wv = loop.load %w[%j, %k] : memref<8x4xf32, #loop.space<sram>>
// CHECK-NEXT:       %xv = loop.load %x[%t, %k] : memref<3x4xf32, #loop.space<dram>>
// CHECK-NEXT:       %p = loop.mul %wv, %xv : f32
// CHECK-NEXT:       loop.yield %p : f32
// CHECK-NEXT:     } concat (%m in 8) {
// CHECK-NEXT:       %hv = loop.load %h[%m] buffer %t : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT:       loop.yield %hv : f32
// CHECK-NEXT:     } : f32
// CHECK-NEXT:     %top = loop.reduce max par 1 vec 1 (%n in 8) {
// CHECK-NEXT:       %hn = loop.load %h[%n] buffer %t : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT:       loop.yield %hn : f32
// CHECK-NEXT:     } : f32
// CHECK-NEXT:     %prev = loop.load %h[%j] buffer %t - 3 : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT:     %a0 = loop.add %dot, %top : f32
// CHECK-NEXT:     %a1 = loop.sub %a0, %prev : f32
// CHECK-NEXT:     %a2 = loop.max %a1, %prev : f32
// CHECK-NEXT:     %a3 = loop.min %a2, %dot : f32
// CHECK-NEXT:     %s0 = loop.sigmoid %a3 : f32
// CHECK-NEXT:     %s1 = loop.tanh %s0 : f32
// CHECK-NEXT:     %s2 = loop.relu %s1 : f32
// CHECK-NEXT:     %s3 = loop.affine %s2 alpha 2.0 beta 0.5 : f32
// CHECK-NEXT:     %s4 = loop.leaky_relu %s3 alpha 0.01 : f32
// CHECK-NEXT:     %s5 = loop.thresholded_relu %s4 alpha 1.0 : f32
// CHECK-NEXT:     %s6 = loop.scaled_tanh %s5 alpha 0.5 beta 2.0 : f32
// CHECK-NEXT:     %s7 = loop.hard_sigmoid %s6 alpha 0.2 beta 0.5 : f32
// CHECK-NEXT:     %s8 = loop.elu %s7 alpha 1.0 : f32
// CHECK-NEXT:     %s9 = loop.softsign %s8 : f32
// CHECK-NEXT:     %s10 = loop.softplus %s9 : f32
// CHECK-NEXT:     %first = arith.constant 0 : index
// CHECK-NEXT:     %is0 = arith.cmpi eq, %j, %first : index
// CHECK-NEXT:     %v = loop.select %is0, %s10, %a0 : f32
// CHECK-NEXT:     loop.store %v, %h[%j] buffer %t + 1 : memref<8xf32, #loop.space<sram>>
// CHECK-NEXT:     loop.store %v, %y[%t, %j] : memref<3x8xf32, #loop.space<dram>>
// CHECK-NEXT:   } {note = "kept"}
// CHECK-NEXT: }
// CHECK-NEXT: %Y = loop.to_tensor %y : memref<3x8xf32, #loop.space<dram>> -> tensor<3x8xf32>

// GENERIC:      "loop.alloc"() <{buffers = 2 : i64}> : () -> memref<8xf32, #loop.space<sram>>
// GENERIC:      "loop.foreach"() <{extents = array<i64: 8>, par = array<i64: 2>}> ({
// GENERIC-NEXT: ^bb0(%i: index):
// GENERIC:      "loop.sequential"() <{steps = 3 : i64}> ({
// GENERIC:      "loop.reduce"() <{combiner = #loop<combiner add>, extents = array<i64: 4, 8>, par = 2 : i64, vec = 4 : i64}> ({
// GENERIC:      "loop.load"(%h, %m, %t) <{offsets = array<i64: 0>, buffer_offset = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}>
// GENERIC:      "loop.hard_sigmoid"(%s6) <{alpha = 2.000000e-01 : f64, beta = 5.000000e-01 : f64}> : (f32) -> f32
// GENERIC:      "loop.store"(%v, %h, %j, %t) <{offsets = array<i64: 0>, buffer_offset = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1>}>
