// A matrix-vector product with 200 copies of its foreach: 200 map-reduce units on a chip
// of 192 PCUs.
func.func @main(%X: tensor<300xf32>, %W: tensor<200x300xf32>) -> tensor<200xf32> {
  %x = loop.from_tensor %X : tensor<300xf32> -> memref<300xf32, #loop.space<sram>>
  %w = loop.from_tensor %W : tensor<200x300xf32> -> memref<200x300xf32, #loop.space<sram>>
  %y = loop.alloc : memref<200xf32, #loop.space<dram>>
  loop.foreach (%i) in (200) par (200) {
    %dot = loop.reduce add par 1 vec 64 (%k in 300) {
      %wv = loop.load %w[%i, %k] : memref<200x300xf32, #loop.space<sram>>
      %xv = loop.load %x[%k] : memref<300xf32, #loop.space<sram>>
      %p = loop.mul %wv, %xv : f32
      loop.yield %p : f32
    } : f32
    loop.store %dot, %y[%i] : memref<200xf32, #loop.space<dram>>
  }
  %Y = loop.to_tensor %y : memref<200xf32, #loop.space<dram>> -> tensor<200xf32>
  func.return %Y : tensor<200xf32>
}
