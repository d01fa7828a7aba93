// spatial-route finds paths through the switch mesh of the 1x6 strip (2 x 7 switches) for
// every stream of a placed design; a routed design is its own routing; with one link per
// direction the three scalar partial sums from @a to @b cannot cross the strip's two rows.
// RUN: rnnc %S/Inputs/strip_placed.mlir --arch %S/Inputs/strip.json -p 'spatial-route' > %t.routed
// RUN: filecheck %s --input-file=%t.routed
// RUN: rnnc %t.routed --arch %S/Inputs/strip.json -p 'spatial-route' | diff - %t.routed
// RUN: rnnc %t.routed --arch %S/Inputs/strip.json -p 'spatial-place' | diff - %t.routed
// RUN: not rnnc %S/Inputs/strip_placed.mlir --arch %S/Inputs/strip-1link.json -p 'spatial-route' 2>&1 | filecheck %s --check-prefix=FEW
// RUN: not rnnc %S/Inputs/strip_design.mlir --arch %S/Inputs/strip.json -p 'spatial-route' 2>&1 | filecheck %s --check-prefix=UNPLACED

// A unit and its neighbour share two corner switches: a path of one switch, no link.
// CHECK:      spatial.stream @s0 vector @x_in.vo0 -> @x_0.vi0 paths [(0, 0)]
// CHECK-NEXT: spatial.stream @s1 vector @w_0.vo0 -> @a.vi0 paths [(0, 2)]
// The operand multicast is a tree: the trunk to @a is reused by the path to @b.
// CHECK-NEXT: spatial.stream @s2 vector @x_0.vo0 -> @a.vi1, @b.vi1 paths [(0, 1)] | [(0, 1), (0, 2), (0, 3), (0, 4)]
// CHECK-NEXT: spatial.stream @s3 vector @w_1.vo0 -> @b.vi0 paths [(0, 4)]
// Two scalar links per direction and row: the third partial sum takes the other row.
// CHECK-NEXT: spatial.stream @s4 scalar @a.so0 -> @b.si0 paths [(0, 2), (0, 3), (0, 4)]
// CHECK-NEXT: spatial.stream @s5 scalar @a.so1 -> @b.si1 paths [(0, 2), (0, 3), (0, 4)]
// CHECK-NEXT: spatial.stream @s6 scalar @a.so2 -> @b.si2 paths [(1, 2), (1, 3), (1, 4)]
// CHECK-NEXT: spatial.stream @s7 vector @b.vo0 -> @h_0.vi0 paths [(0, 5)]
// CHECK-NEXT: spatial.stream @s8 vector @h_0.vo0 -> @y_out.vi0 paths [(0, 6)]
// CHECK-NEXT: spatial.stream @s9 control @b.co0 -> @a.ci0 paths [(0, 4), (0, 3), (0, 2)]
// CHECK-NEXT: } {route_rounds = {scalar = 1 : i64, vector = 1 : i64, control = 1 : i64}}

// FEW: strip_placed.mlir: error: spatial-route: cannot route the scalar network with 1 link(s) per direction after 40 rounds: 2 link(s) over capacity by 2 stream(s) in all: (1, 2)->(1, 3) east carries 2 of 1; (1, 3)->(1, 4) east carries 2 of 1; streams on them: s4, s5
// UNPLACED: error: spatial-route: unit @x_in has no site; run spatial-place first
