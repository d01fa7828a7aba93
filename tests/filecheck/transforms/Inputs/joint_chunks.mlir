builtin.module {
  func.func @main(%X: tensor<2x1x3xf32>, %W: tensor<1x9x3xf32>, %R: tensor<1x9x3xf32>) -> tensor<1x1x3xf32> {
    %x = loop.from_tensor %X : tensor<2x1x3xf32> -> memref<2x1x3xf32, #loop.space<dram>>
    %w = loop.from_tensor %W : tensor<1x9x3xf32> -> memref<1x9x3xf32, #loop.space<sram>>
    %r = loop.from_tensor %R : tensor<1x9x3xf32> -> memref<1x9x3xf32, #loop.space<sram>>
    %h = loop.alloc zero buffers 2 : memref<1x1x3xf32, #loop.space<sram>>
    %y_h = loop.alloc : memref<1x1x3xf32, #loop.space<dram>>
    loop.sequential %t in 2 {
      loop.foreach (%d, %b, %i) in (1, 1, 3) par (1, 1, 1) {
        %xw_n = loop.reduce add par 3 vec 1 (%k in 3) {
          %0 = loop.load %w[%d, %i + 6, %k] : memref<1x9x3xf32, #loop.space<sram>>
          %1 = loop.load %x[%t, %b, %k] : memref<2x1x3xf32, #loop.space<dram>>
          %2 = loop.mul %0, %1 : f32
          loop.yield %2 : f32
        } : f32
        %s_r = loop.reduce add par 3 vec 1 (%k_1 in 3) {
          %3 = loop.load %w[%d, %i + 3, %k_1] : memref<1x9x3xf32, #loop.space<sram>>
          %4 = loop.load %x[%t, %b, %k_1] : memref<2x1x3xf32, #loop.space<dram>>
          %5 = loop.mul %3, %4 : f32
          loop.yield %5 : f32
        } concat (%k_2 in 3) {
          %6 = loop.load %r[%d, %i + 3, %k_2] : memref<1x9x3xf32, #loop.space<sram>>
          %7 = loop.load %h[%d, %b, %k_2] buffer %t : memref<1x1x3xf32, #loop.space<sram>>
          %8 = loop.mul %6, %7 : f32
          loop.yield %8 : f32
        } : f32
        %r_1 = loop.sigmoid %s_r : f32
        %hr_n = loop.reduce add par 3 vec 1 (%k_3 in 3) {
          %9 = loop.load %r[%d, %i + 6, %k_3] : memref<1x9x3xf32, #loop.space<sram>>
          %10 = loop.load %h[%d, %b, %k_3] buffer %t : memref<1x1x3xf32, #loop.space<sram>>
          %11 = loop.mul %9, %10 : f32
          loop.yield %11 : f32
        } : f32
        %rh_n = loop.mul %r_1, %hr_n : f32
        %a_n = loop.add %xw_n, %rh_n : f32
        %n = loop.tanh %a_n : f32
        %s_z = loop.reduce add par 3 vec 1 (%k_4 in 3) {
          %12 = loop.load %w[%d, %i, %k_4] : memref<1x9x3xf32, #loop.space<sram>>
          %13 = loop.load %x[%t, %b, %k_4] : memref<2x1x3xf32, #loop.space<dram>>
          %14 = loop.mul %12, %13 : f32
          loop.yield %14 : f32
        } concat (%k_5 in 3) {
          %15 = loop.load %r[%d, %i, %k_5] : memref<1x9x3xf32, #loop.space<sram>>
          %16 = loop.load %h[%d, %b, %k_5] buffer %t : memref<1x1x3xf32, #loop.space<sram>>
          %17 = loop.mul %15, %16 : f32
          loop.yield %17 : f32
        } : f32
        %z = loop.sigmoid %s_z : f32
        %18 = arith.constant 1.000000e+00 : f32
        %omz = loop.sub %18, %z : f32
        %zn = loop.mul %omz, %n : f32
        %19 = loop.load %h[%d, %b, %i] buffer %t : memref<1x1x3xf32, #loop.space<sram>>
        %zh = loop.mul %z, %19 : f32
        %h_new = loop.add %zn, %zh : f32
        loop.store %h_new, %h[%d, %b, %i] buffer %t + 1 : memref<1x1x3xf32, #loop.space<sram>>
      } {loop.joint_chunks}
    }
    loop.foreach (%d_1, %b_1, %i_1) in (1, 1, 3) par (1, 1, 3) {
      %20 = loop.load %h[%d_1, %b_1, %i_1] buffer 2 : memref<1x1x3xf32, #loop.space<sram>>
      loop.store %20, %y_h[%d_1, %b_1, %i_1] : memref<1x1x3xf32, #loop.space<dram>>
    }
    %Y_h = loop.to_tensor %y_h : memref<1x1x3xf32, #loop.space<dram>> -> tensor<1x1x3xf32>
    func.return %Y_h : tensor<1x1x3xf32>
  }
}
