builtin.module {
  func.func @main(%X: tensor<2x1x3xf32>, %W: tensor<1x4x3xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
    %x = loop.from_tensor %X : tensor<2x1x3xf32> -> memref<2x1x3xf32, #loop.space<dram>>
    %w = loop.from_tensor %W : tensor<1x4x3xf32> -> memref<1x4x3xf32, #loop.space<sram>>
    %r = loop.from_tensor %R : tensor<1x4x4xf32> -> memref<1x4x4xf32, #loop.space<sram>>
    %h = loop.alloc buffers 2 : memref<1x1x4xf32, #loop.space<sram>>
    loop.foreach (%d, %b, %i) in (1, 1, 4) par (1, 1, 4) {
      %0 = arith.constant 0.000000e+00 : f32
      loop.store %0, %h[%d, %b, %i] buffer 0 : memref<1x1x4xf32, #loop.space<sram>>
    }
    %y_h = loop.alloc : memref<1x1x4xf32, #loop.space<dram>>
    loop.sequential %t in 2 {
      loop.foreach (%d_1, %b_1, %i_1) in (1, 1, 4) par (1, 1, 1) {
        %s_h = loop.reduce add par 3 vec 1 (%k in 3) {
          %1 = loop.load %w[%d_1, %i_1, %k] : memref<1x4x3xf32, #loop.space<sram>>
          %2 = loop.load %x[%t, %b_1, %k] : memref<2x1x3xf32, #loop.space<dram>>
          %3 = loop.mul %1, %2 : f32
          loop.yield %3 : f32
        } concat (%k_1 in 4) {
          %4 = loop.load %r[%d_1, %i_1, %k_1] : memref<1x4x4xf32, #loop.space<sram>>
          %5 = loop.load %h[%d_1, %b_1, %k_1] buffer %t : memref<1x1x4xf32, #loop.space<sram>>
          %6 = loop.mul %4, %5 : f32
          loop.yield %6 : f32
        } : f32
        %h_new = loop.tanh %s_h : f32
        loop.store %h_new, %h[%d_1, %b_1, %i_1] buffer %t + 1 : memref<1x1x4xf32, #loop.space<sram>>
      } {loop.chained_sums}
    }
    loop.foreach (%d_2, %b_2, %i_2) in (1, 1, 4) par (1, 1, 4) {
      %7 = loop.load %h[%d_2, %b_2, %i_2] buffer 2 : memref<1x1x4xf32, #loop.space<sram>>
      loop.store %7, %y_h[%d_2, %b_2, %i_2] : memref<1x1x4xf32, #loop.space<dram>>
    }
    %Y_h = loop.to_tensor %y_h : memref<1x1x4xf32, #loop.space<dram>> -> tensor<1x1x4xf32>
    func.return %Y_h : tensor<1x1x4xf32>
  }
}
