// spatial-swap-start adds, for each loop phase of the design's program that can start its
// steps on its state buffer's swap, a control stream from the first state buffer's swap
// output (@h_0.co1) to the step's first readers, in unit order: the loop's PCUs (@a, @c)
// and every PMU they read or write (@x_0, @w_0, @h_1, @h_copy), not the lookup table
// (@t_0), the address generators, the once nest's PCU (@b) or the state buffer itself;
// and to the controller, on its input after the done tokens' (ci2), which relays it to
// the address generators. The phase names the stream. @h_1, the second state
// buffer (buffers 2, written and read by the loop), is a reader: it reads on its own swap.
// Running it again changes nothing.
// Left to the controller (design unchanged): the schedule switched off, a loop of one
// step, a loop of two nests, a loop without a state buffer (h single-buffered).
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-swap-start' | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-swap-start{schedules=swap-start}' | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-swap-start' | rnnc - --arch %S/Inputs/strip.json -p 'spatial-swap-start' | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/strip.json > %t.unchanged
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-swap-start{schedules=none}' | diff - %t.unchanged
// RUN: rnnc %s --arch %S/Inputs/strip.json --schedules all,-swap-start -p 'spatial-swap-start' | diff - %t.unchanged
// RUN: sed 's/phase loop 4/phase loop 1/' %s | rnnc - --arch %S/Inputs/strip.json > %t.one
// RUN: sed 's/phase loop 4/phase loop 1/' %s | rnnc - --arch %S/Inputs/strip.json -p 'spatial-swap-start' | diff - %t.one
// RUN: sed 's/phase loop 4 \["n0"\]/phase loop 4 ["n0", "n1"]/; /phase once/d' %s | rnnc - --arch %S/Inputs/strip.json > %t.two
// RUN: sed 's/phase loop 4 \["n0"\]/phase loop 4 ["n0", "n1"]/; /phase once/d' %s | rnnc - --arch %S/Inputs/strip.json -p 'spatial-swap-start' | diff - %t.two
// RUN: sed 's/buffers 2 boxes \["h"/buffers 1 boxes ["h"/' %s | rnnc - --arch %S/Inputs/strip.json > %t.single
// RUN: sed 's/buffers 2 boxes \["h"/buffers 1 boxes ["h"/' %s | rnnc - --arch %S/Inputs/strip.json -p 'spatial-swap-start' | diff - %t.single
// RUN: not rnnc %s --arch %S/Inputs/strip.json -p 'spatial-swap-start{schedules=bogus}' 2>&1 | filecheck %s --check-prefix=ERR
// RUN: echo 'func.func @f() { func.return }' | not rnnc - -p 'spatial-swap-start' 2>&1 | filecheck %s --check-prefix=NODESIGN

// CHECK:      spatial.phase loop 4 ["n0"] swap @swap_n0
// CHECK-NEXT: spatial.phase once ["n1"]{{$}}
// CHECK: spatial.stream @swap_n0 control @h_0.co1 -> @x_0.ci1, @w_0.ci1, @a.ci1, @c.ci1, @h_1.ci1, @h_copy.ci1, @ctrl.ci2
// CHECK-NOT: spatial.stream @swap
// ERR: error: spatial-swap-start: schedules: unknown schedule 'bogus'
// NODESIGN: error: spatial-swap-start: no spatial.design; run spatial-partition first

spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.nest "n0" [16] par [1]
  spatial.nest "n1" [16] par [1]
  spatial.phase loop 4 ["n0"]
  spatial.phase once ["n1"]
  spatial.ag @x_in left load "x"
  spatial.pmu @x_0 input strided bytes 128 buffers 2 boxes ["x"[0:16:1]]
  spatial.pmu @w_0 weights strided bytes 128 buffers 1 boxes ["w"[0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "n0" lanes 16 counters []
  spatial.pcu @c elementwise mode elementwise "n0" lanes 16 counters []
  spatial.pmu @t_0 "lookup-table" strided bytes 4096 buffers 1 lut ["tanh" 1024 8.0 linear]
  spatial.pcu @b map_reduce mode map_reduce "n1" lanes 16 counters []
  spatial.pmu @h_0 state strided bytes 128 buffers 2 boxes ["h"[0:16:1]]
  spatial.pmu @h_1 state strided bytes 128 buffers 2 boxes ["h"[16:32:1]]
  spatial.pmu @h_copy buffer strided bytes 128 buffers 1 boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y"
  spatial.ag @h_out right store "y_h"
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0
  spatial.stream @s1 vector @x_0.vo0 -> @a.vi0
  spatial.stream @s2 vector @h_0.vo0 -> @a.vi1
  spatial.stream @s3 vector @h_1.vo0 -> @c.vi2
  spatial.stream @s4 vector @w_0.vo0 -> @a.vi2
  spatial.stream @s5 vector @a.vo0 -> @c.vi0
  spatial.stream @s6 vector @c.vo0 -> @t_0.vi0
  spatial.stream @s7 vector @t_0.vo0 -> @c.vi1
  spatial.stream @s8 vector @c.vo1 -> @h_0.vi0, @h_1.vi0, @h_copy.vi0, @y_out.vi0
  spatial.stream @s9 vector @h_copy.vo0 -> @b.vi0
  spatial.stream @s10 vector @b.vo0 -> @h_out.vi0
  spatial.controller @ctrl
  spatial.stream @done_a control @a.co0 -> @ctrl.ci0
  spatial.stream @done_c control @c.co0 -> @ctrl.ci1
}
