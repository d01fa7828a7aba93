// The interpreter checks that the iterations of a parallel loop do not conflict. Here the
// hidden state is single-buffered and updated in place inside the foreach: iteration i
// writes h[i] while the other iterations still read all of h in their dot products.
// The double-buffered version of the same program runs.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', X=np.ones((3, 4), np.float32), R=np.full((4, 4), 0.1, np.float32))"
// RUN: not rnnc run %s --inputs %t.npz 2>&1 | filecheck %s
// RUN: rnnc run %S/Inputs/double_buffered.mlir --inputs %t.npz | filecheck %s --check-prefix=FIXED

func.func @main(%X: tensor<3x4xf32>, %R: tensor<4x4xf32>) -> tensor<4xf32> {
  %x = loop.from_tensor %X : tensor<3x4xf32> -> memref<3x4xf32, #loop.space<dram>>
  %r = loop.from_tensor %R : tensor<4x4xf32> -> memref<4x4xf32, #loop.space<sram>>
  %h = loop.alloc : memref<4xf32, #loop.space<sram>>
  %y = loop.alloc : memref<4xf32, #loop.space<dram>>
  loop.foreach (%i) in (4) par (1) {
    %zero = arith.constant 0.0 : f32
    loop.store %zero, %h[%i] : memref<4xf32, #loop.space<sram>>
  }
  loop.sequential %t in 3 {
    loop.foreach (%i) in (4) par (1) {
      %dot = loop.reduce add par 1 vec 1 (%k in 4) {
        %rv = loop.load %r[%i, %k] : memref<4x4xf32, #loop.space<sram>>
        %hv = loop.load %h[%k] : memref<4xf32, #loop.space<sram>>
        %p = loop.mul %rv, %hv : f32
        loop.yield %p : f32
      } : f32
      %xv = loop.load %x[%t, %i] : memref<3x4xf32, #loop.space<dram>>
      %a = loop.add %dot, %xv : f32
      %n = loop.tanh %a : f32
      loop.store %n, %h[%i] : memref<4xf32, #loop.space<sram>>
    }
  }
  loop.foreach (%i) in (4) par (1) {
    %v = loop.load %h[%i] : memref<4xf32, #loop.space<sram>>
    loop.store %v, %y[%i] : memref<4xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<4xf32, #loop.space<dram>> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
}
// CHECK: loop.foreach: error: iterations conflict on memory 'h': iteration (i=0) writes h[0], which iteration (i=1) reads
// FIXED: Y: shape [4]
