// Inputs/strip_placed.mlir routed by spatial-route on Inputs/strip.json.
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (0, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(0, 0)]
  spatial.stream @s1 vector @w_0.vo0 -> @a.vi0 paths [(0, 2)]
  spatial.stream @s2 vector @x_0.vo0 -> @a.vi1, @b.vi1 paths [(0, 1)] | [(0, 1), (0, 2), (0, 3), (0, 4)]
  spatial.stream @s3 vector @w_1.vo0 -> @b.vi0 paths [(0, 4)]
  spatial.stream @s4 scalar @a.so0 -> @b.si0 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s5 scalar @a.so1 -> @b.si1 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s6 scalar @a.so2 -> @b.si2 paths [(1, 2), (1, 3), (1, 4)]
  spatial.stream @s7 vector @b.vo0 -> @h_0.vi0 paths [(0, 5)]
  spatial.stream @s8 vector @h_0.vo0 -> @y_out.vi0 paths [(0, 6)]
  spatial.stream @s9 control @b.co0 -> @a.ci0 paths [(0, 4), (0, 3), (0, 2)]
} {route_rounds = {scalar = 1 : i64, vector = 1 : i64, control = 1 : i64}}
