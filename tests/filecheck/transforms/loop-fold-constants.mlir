// loop-fold-constants: a nest that runs once and reads weights alone (the bias sum Wb + Rb)
// runs when compiling: it is marked `loop.folded` and each memory it writes names the
// weight-file array of its contents; a configuration then holds that memory as a constant
// and runs no nest for it. A nest reading a model input, writing off chip, or writing a
// memory another nest writes too stays work for the chip.
// RUN: rnnc %s --split-input-file -p loop-fold-constants | filecheck %s
// RUN: rnnc %s --split-input-file -p loop-fold-constants -o %t.mlir
// RUN: rnnc %t.mlir --split-input-file -p loop-fold-constants | filecheck %s

builtin.module attributes {rnn.weights = "m.npz"} {
  func.func @bias_sum() -> tensor<2x4xf32> {
    %B = rnn.weight "B" : tensor<2x8xf32>
    %biases = loop.from_tensor %B : tensor<2x8xf32> -> memref<2x8xf32, #loop.space<sram>>
    %bias = loop.alloc : memref<2x4xf32, #loop.space<sram>>
    %y = loop.alloc : memref<2x4xf32, #loop.space<dram>>
    loop.foreach (%d, %j) in (2, 4) par (1, 1) {
      %0 = loop.load %biases[%d, %j] : memref<2x8xf32, #loop.space<sram>>
      %1 = loop.load %biases[%d, %j + 4] : memref<2x8xf32, #loop.space<sram>>
      %2 = loop.add %0, %1 : f32
      loop.store %2, %bias[%d, %j] : memref<2x4xf32, #loop.space<sram>>
    }
    loop.foreach (%d, %j) in (2, 4) par (1, 1) {
      %3 = loop.load %bias[%d, %j] : memref<2x4xf32, #loop.space<sram>>
      %4 = loop.tanh %3 : f32
      loop.store %4, %y[%d, %j] : memref<2x4xf32, #loop.space<dram>>
    }
    %Y = loop.to_tensor %y : memref<2x4xf32, #loop.space<dram>> -> tensor<2x4xf32>
    func.return %Y : tensor<2x4xf32>
  }
}
// CHECK-LABEL: func.func @bias_sum
// CHECK:         %bias = loop.alloc {loop.folded_array = "bias.folded"} : memref<2x4xf32, #loop.space<sram>>
// CHECK:           loop.store %{{.*}}, %bias[%{{.*}}, %{{.*}}]
// CHECK-NEXT:    } {loop.folded}
// CHECK:           loop.store %{{.*}}, %y
// CHECK-NEXT:    }
// CHECK-NEXT:    loop.to_tensor

// -----

// The biases are a model input; the second nest writes off chip; the third writes %b,
// which the fourth writes too.
builtin.module attributes {rnn.weights = "m.npz"} {
  func.func @refused(%B: tensor<8xf32>) -> tensor<4xf32> {
    %W = rnn.weight "W" : tensor<8xf32>
    %biases = loop.from_tensor %B : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
    %w = loop.from_tensor %W : tensor<8xf32> -> memref<8xf32, #loop.space<sram>>
    %a = loop.alloc : memref<4xf32, #loop.space<sram>>
    %b = loop.alloc : memref<4xf32, #loop.space<sram>>
    %y = loop.alloc : memref<4xf32, #loop.space<dram>>
    loop.foreach (%j) in (4) par (1) {
      %0 = loop.load %biases[%j] : memref<8xf32, #loop.space<sram>>
      loop.store %0, %a[%j] : memref<4xf32, #loop.space<sram>>
    }
    loop.foreach (%j) in (4) par (1) {
      %1 = loop.load %w[%j] : memref<8xf32, #loop.space<sram>>
      loop.store %1, %y[%j] : memref<4xf32, #loop.space<dram>>
    }
    loop.foreach (%j) in (4) par (1) {
      %2 = loop.load %w[%j] : memref<8xf32, #loop.space<sram>>
      loop.store %2, %b[%j] : memref<4xf32, #loop.space<sram>>
    }
    loop.foreach (%j) in (4) par (1) {
      %3 = loop.load %a[%j] : memref<4xf32, #loop.space<sram>>
      loop.store %3, %b[%j] : memref<4xf32, #loop.space<sram>>
    }
    %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
    func.return %Y : tensor<4xf32>
  }
}
// CHECK-LABEL: func.func @refused
// CHECK-NOT:     loop.folded
// CHECK:         func.return
