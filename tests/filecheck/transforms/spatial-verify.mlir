// spatial-verify checks a placed and routed design on its own (no code shared with the
// placer and router): the routed strip design passes unchanged, and so does the whole
// place-route-verify pipeline's output; on a chip with one link per direction the same
// routes over-use two links; each corruption below is named.
// RUN: rnnc %S/Inputs/strip_routed.mlir --arch %S/Inputs/strip.json > %t.expected
// RUN: rnnc %S/Inputs/strip_routed.mlir --arch %S/Inputs/strip.json -p 'spatial-verify' | diff - %t.expected
// RUN: not rnnc %S/Inputs/strip_routed.mlir --arch %S/Inputs/strip-1link.json -p 'spatial-verify' 2>&1 | filecheck %s --check-prefix=FEW
// RUN: rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-place{schedules=none},spatial-route,spatial-verify' | diff - %t.expected
// RUN: not rnnc %s --split-input-file --arch %S/Inputs/strip.json -p 'spatial-verify' 2>&1 | filecheck %s --check-prefix=ERR

// FEW: error: spatial-verify: 2 problems: link (0, 2)->(0, 3) of the scalar network: carries 2 streams, 1 more than its 1 links (s4, s5); link (0, 3)->(0, 4) of the scalar network: carries 2 streams, 1 more than its 1 links (s4, s5)

// A path that skips a switch.
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
  spatial.stream @s1 vector @w_0.vo0 -> @a.vi0 paths [(0, 2)]
  spatial.stream @s2 vector @x_0.vo0 -> @a.vi1, @b.vi1 paths [(0, 1)] | [(0, 1), (0, 2), (0, 3), (0, 4)]
  spatial.stream @s3 vector @w_1.vo0 -> @b.vi0 paths [(0, 4)]
  spatial.stream @s4 scalar @a.so0 -> @b.si0 paths [(0, 2), (0, 4)]
  spatial.stream @s5 scalar @a.so1 -> @b.si1 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s6 scalar @a.so2 -> @b.si2 paths [(1, 2), (1, 3), (1, 4)]
  spatial.stream @s7 vector @b.vo0 -> @h_0.vi0 paths [(0, 5)]
  spatial.stream @s8 vector @h_0.vo0 -> @y_out.vi0 paths [(0, 6)]
  spatial.stream @s9 control @b.co0 -> @a.ci0 paths [(0, 4), (0, 3), (0, 2)]
} {route_rounds = {scalar = 1 : i64, vector = 1 : i64, control = 1 : i64}}
// ERR: error: spatial-verify: 1 problem: stream 's4' field 'paths.0': path to 'b' jumps from switch (0, 2) to (0, 4), which are not adjacent switches

// -----

// A path that starts at a switch its producer is not wired to.
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
  spatial.stream @s1 vector @w_0.vo0 -> @a.vi0 paths [(0, 1)]
  spatial.stream @s2 vector @x_0.vo0 -> @a.vi1, @b.vi1 paths [(0, 1)] | [(0, 1), (0, 2), (0, 3), (0, 4)]
  spatial.stream @s3 vector @w_1.vo0 -> @b.vi0 paths [(0, 4)]
  spatial.stream @s4 scalar @a.so0 -> @b.si0 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s5 scalar @a.so1 -> @b.si1 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s6 scalar @a.so2 -> @b.si2 paths [(1, 2), (1, 3), (1, 4)]
  spatial.stream @s7 vector @b.vo0 -> @h_0.vi0 paths [(0, 5)]
  spatial.stream @s8 vector @h_0.vo0 -> @y_out.vi0 paths [(0, 6)]
  spatial.stream @s9 control @b.co0 -> @a.ci0 paths [(0, 4), (0, 3), (0, 2)]
} {route_rounds = {scalar = 1 : i64, vector = 1 : i64, control = 1 : i64}}
// ERR: error: spatial-verify: 1 problem: stream 's1' field 'paths.0': path to 'a' starts at switch (0, 1), which 'w_0' is not wired to

// -----

// A path that ends short of its consumer, and a stream with no route.
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
  spatial.stream @s1 vector @w_0.vo0 -> @a.vi0 paths [(0, 2)]
  spatial.stream @s2 vector @x_0.vo0 -> @a.vi1, @b.vi1 paths [(0, 1)] | [(0, 1), (0, 2), (0, 3), (0, 4)]
  spatial.stream @s3 vector @w_1.vo0 -> @b.vi0 paths [(0, 4)]
  spatial.stream @s4 scalar @a.so0 -> @b.si0 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s5 scalar @a.so1 -> @b.si1 paths [(0, 2), (0, 3), (0, 4)]
  spatial.stream @s6 scalar @a.so2 -> @b.si2 paths [(1, 2), (1, 3), (1, 4)]
  spatial.stream @s7 vector @b.vo0 -> @h_0.vi0 paths [(0, 4)]
  spatial.stream @s8 vector @h_0.vo0 -> @y_out.vi0
  spatial.stream @s9 control @b.co0 -> @a.ci0 paths [(0, 4), (0, 3), (0, 2)]
} {route_rounds = {scalar = 1 : i64, vector = 1 : i64, control = 1 : i64}}
// ERR: error: spatial-verify: 2 problems: stream 's7' field 'paths.0': path to 'h_0' ends at switch (0, 4), which 'h_0' is not wired to; stream 's8': has no route (run spatial-route)

// -----

// Two units on one site (the dialect checks each site's kind, not overlaps).
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
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
// ERR: error: spatial-verify: {{.*}}unit 'w_1': shares site (0, 2) with 'w_0'

// -----

// A PMU over its capacity: the design checks of the driver refuse it before any pass runs
// (the independent checker's own message is tested in tests/target/test_checks.py).
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 90000 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
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
// ERR: spatial-verify.mlir:122:3: error: spatial.pmu @h_0: holds 90000 bytes, 3984 more than its capacity of 86016

// -----

// A unit with no site.
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y"
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
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
// ERR: error: spatial-verify: {{.*}}unit 'y_out': has no site (run spatial-place)

// -----

// A PMU whose box takes a longer chain of address counters than a PMU has (pmu.counters).
spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.ag @x_in left load "x" at (1, -1)
  spatial.pmu @x_0 input strided bytes 128 buffers 2 at (0, 0) boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 1024 buffers 1 at (0, 2) boxes ["w"[0:16:1, 0:16:1]]
  spatial.pmu @w_1 weights strided bytes 1024 buffers 1 at (0, 3) boxes ["w"[16:32:1, 0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 1)
  spatial.pcu @b map_reduce mode map_reduce "cell" lanes 16 counters [] at (0, 4)
  spatial.pmu @h_0 state strided bytes 128 buffers 2 at (0, 5) boxes ["h"[0:16:1, 0:1:1, 0:1:1, 0:1:1, 0:1:1, 0:1:1, 0:1:1, 0:1:1, 0:1:1]]
  spatial.ag @y_out right store "y" at (0, 6)
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(1, 0)]
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
// ERR: error: spatial-verify: 1 problem: unit 'h_0' field 'boxes.0.slices': addresses box 0 ('h') with a chain of 9 counters, a PMU has 8
