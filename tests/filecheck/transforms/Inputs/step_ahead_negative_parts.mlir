// The time loop's nest marked step_ahead = -1.
builtin.module {
  func.func @main(%X: tensor<2x1x3xf32>, %W: tensor<1x4x3xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
    %x = loop.from_tensor %X : tensor<2x1x3xf32> -> memref<2x1x3xf32, #loop.space<dram>>
    %w = loop.from_tensor %W : tensor<1x4x3xf32> -> memref<1x4x3xf32, #loop.space<sram>>
    %r = loop.from_tensor %R : tensor<1x4x4xf32> -> memref<1x4x4xf32, #loop.space<sram>>
    %h = loop.alloc zero buffers 2 : memref<1x1x4xf32, #loop.space<sram>>
    %y_h = loop.alloc : memref<1x1x4xf32, #loop.space<dram>>
    loop.sequential %t in 2 {
      loop.foreach (%d, %b, %i) in (1, 1, 4) par (1, 1, 1) {
        %s_h = loop.reduce add par 1 vec 2 (%k in 3) {
          %0 = loop.load %w[%d, %i, %k] : memref<1x4x3xf32, #loop.space<sram>>
          %1 = loop.load %x[%t, %b, %k] : memref<2x1x3xf32, #loop.space<dram>>
          %2 = loop.mul %0, %1 : f32
          loop.yield %2 : f32
        } concat (%k_1 in 4) {
          %3 = loop.load %r[%d, %i, %k_1] : memref<1x4x4xf32, #loop.space<sram>>
          %4 = loop.load %h[%d, %b, %k_1] buffer %t : memref<1x1x4xf32, #loop.space<sram>>
          %5 = loop.mul %3, %4 : f32
          loop.yield %5 : f32
        } : f32
        %h_new = loop.tanh %s_h : f32
        loop.store %h_new, %h[%d, %b, %i] buffer %t + 1 : memref<1x1x4xf32, #loop.space<sram>>
      } {step_ahead = -1 : i64}
    }
    loop.foreach (%d_1, %b_1, %i_1) in (1, 1, 4) par (1, 1, 1) {
      %6 = loop.load %h[%d_1, %b_1, %i_1] buffer 2 : memref<1x1x4xf32, #loop.space<sram>>
      loop.store %6, %y_h[%d_1, %b_1, %i_1] : memref<1x1x4xf32, #loop.space<dram>>
    }
    %Y_h = loop.to_tensor %y_h : memref<1x1x4xf32, #loop.space<dram>> -> tensor<1x1x4xf32>
    func.return %Y_h : tensor<1x1x4xf32>
  }
}
