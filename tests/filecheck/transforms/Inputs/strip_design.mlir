// A small design for the 1x6 strip (Inputs/strip.json): an input loaded through a left-edge
// AG into an operand PMU multicast to two PCUs, each with a weight PMU; three scalar partial
// sums from @a to @b; @b's result stored through a right-edge AG via a state PMU.
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x"
  spatial.pmu @x_0 input strided bytes 128 buffers 2 boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters []
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters []
  spatial.pmu @h_0 state strided bytes 128 buffers 2 boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y"
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0
  spatial.stream @s1 vector @w_0.vo0 -> @a.vi0
  spatial.stream @s2 vector @x_0.vo0 -> @a.vi1, @b.vi1
  spatial.stream @s3 vector @w_1.vo0 -> @b.vi0
  spatial.stream @s4 scalar @a.so0 -> @b.si0
  spatial.stream @s5 scalar @a.so1 -> @b.si1
  spatial.stream @s6 scalar @a.so2 -> @b.si2
  spatial.stream @s7 vector @b.vo0 -> @h_0.vi0
  spatial.stream @s8 vector @h_0.vo0 -> @y_out.vi0
  spatial.stream @s9 control @b.co0 -> @a.ci0
}
