// spatial-post-writes lists, on each loop phase of the design's program, the writes its
// steps need not wait for: the store @y_out that the loop's @a feeds and @h_copy, which @a
// writes and only the once-run nest n1 reads. Not posted: @h_0 (state: @a reads it next
// step), @x_0 (read by @a), @h_out (fed by n1, which runs once), anything of a once phase.
// A loop of one step posts nothing (no next step could overlap the writes). With the
// schedule switched off the design is unchanged.
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-post-writes' | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-post-writes{schedules=posted-writes}' | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-post-writes' | rnnc - --arch %S/Inputs/strip.json -p 'spatial-post-writes' | filecheck %s
// RUN: rnnc %s --arch %S/Inputs/strip.json > %t.unchanged
// RUN: rnnc %s --arch %S/Inputs/strip.json -p 'spatial-post-writes{schedules=none}' | diff - %t.unchanged
// RUN: rnnc %s --arch %S/Inputs/strip.json --schedules all,-posted-writes -p 'spatial-post-writes' | diff - %t.unchanged
// RUN: sed 's/phase loop 4/phase loop 1/' %s | rnnc - --arch %S/Inputs/strip.json -p 'spatial-post-writes' | filecheck %s --check-prefix=ONE
// RUN: not rnnc %s --arch %S/Inputs/strip.json -p 'spatial-post-writes{schedules=bogus}' 2>&1 | filecheck %s --check-prefix=ERR
// RUN: echo 'func.func @f() { func.return }' | not rnnc - -p 'spatial-post-writes' 2>&1 | filecheck %s --check-prefix=NODESIGN

// CHECK:      spatial.phase loop 4 ["n0"] posted [@h_copy, @y_out]
// CHECK-NEXT: spatial.phase once ["n1"]{{$}}
// ONE:        spatial.phase loop 1 ["n0"]{{$}}
// ONE-NEXT:   spatial.phase once ["n1"]{{$}}
// ERR: error: spatial-post-writes: schedules: unknown schedule 'bogus'
// NODESIGN: error: spatial-post-writes: no spatial.design; run spatial-partition first

spatial.design @main #spatial.arch<"strip"> precision "fp32" {
  spatial.nest "n0" [16] par [1]
  spatial.nest "n1" [16] par [1]
  spatial.phase loop 4 ["n0"]
  spatial.phase once ["n1"]
  spatial.ag @x_in left load "x"
  spatial.pmu @x_0 input strided bytes 128 buffers 2 boxes ["x"[0:16:1]]
  spatial.pcu @a map_reduce mode map_reduce "n0" lanes 16 counters []
  spatial.pcu @b map_reduce mode map_reduce "n1" lanes 16 counters []
  spatial.pmu @h_0 state strided bytes 128 buffers 2 boxes ["h"[0:16:1]]
  spatial.pmu @h_copy buffer strided bytes 128 buffers 1 boxes ["h"[0:16:1]]
  spatial.ag @y_out right store "y"
  spatial.ag @h_out right store "y_h"
  spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0
  spatial.stream @s1 vector @x_0.vo0 -> @a.vi0
  spatial.stream @s2 vector @h_0.vo0 -> @a.vi1
  spatial.stream @s3 vector @a.vo0 -> @h_0.vi0, @h_copy.vi0, @y_out.vi0
  spatial.stream @s4 vector @h_copy.vo0 -> @b.vi0
  spatial.stream @s5 vector @b.vo0 -> @h_out.vi0
}
