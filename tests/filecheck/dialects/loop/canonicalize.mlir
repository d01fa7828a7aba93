// The canonicalization pattern of loop.alloc: a memory that is only stored to goes, with
// its stores (and, through the driver's dead-code elimination, what computed the values).
// RUN: rnnc %s -p canonicalize | filecheck %s

func.func @main(%X: tensor<4xf32>) -> tensor<4xf32> {
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
  %unread = loop.alloc : memref<4xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<dram>>
  loop.foreach (%i) in (4) par (1) {
    %v = loop.load %x[%i] : memref<4xf32, #loop.space<sram>>
    %t = loop.tanh %v : f32
    loop.store %t, %unread[%i] : memref<4xf32, #loop.space<sram>>
    %s = loop.sigmoid %v : f32
    loop.store %s, %y[%i] : memref<4xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
}

// CHECK:      %x = loop.from_tensor %X
// CHECK-NEXT: %y = loop.alloc : memref<4xf32, #loop.space<dram>>
// CHECK-NEXT: loop.foreach (%i) in (4) par (1) {
// CHECK-NEXT:   %v = loop.load %x[%i] : memref<4xf32, #loop.space<sram>>
// CHECK-NEXT:   %s = loop.sigmoid %v : f32
// CHECK-NEXT:   loop.store %s, %y[%i] : memref<4xf32, #loop.space<dram>>
// CHECK-NEXT: }
// CHECK-NOT:  %unread
// CHECK-NOT:  loop.tanh
