// The control streams: spatial-partition gives the schedule a controller and control
// streams -- the enable broadcast from the controller to every unit the schedule fires,
// and each such unit's done token back to it; spatial-place puts the controller at the
// architecture's controller switch (the centre of the mesh), spatial-route routes the
// control streams (the enable as a tree, each done token to the controller's switch) and
// spatial-verify refuses a fired unit whose control route is missing. A small RNN cell
// (H=4, D=3) at par 1.
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32}' | filecheck %s
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32},spatial-place,spatial-route,spatial-verify' | filecheck %s --check-prefix=ROUTED
// RUN: rnnc %s -p 'rnn-decompose,loop-fuse,spatial-partition{precision=fp32},spatial-place,spatial-route' | sed '/@done_pmu0 /d' | not rnnc - -p spatial-verify 2>&1 | filecheck %s --check-prefix=NODONE

func.func @main(%X: tensor<2x1x3xf32>, %W: tensor<1x4x3xf32>, %R: tensor<1x4x4xf32>) -> tensor<1x1x4xf32> {
  %Y, %Y_h = rnn.rnn %X, %W, %R {hidden_size = 4 : i64} : (tensor<2x1x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>) -> (tensor<2x1x1x4xf32>, tensor<1x1x4xf32>)
  func.return %Y_h : tensor<1x1x4xf32>
}

// The controller is logical until placed; the data streams come first.
// CHECK:      spatial.controller @ctrl{{$}}
// CHECK:      spatial.stream @s5 vector
// One enable tree to the seven units the schedule fires, each on its control input ci0:
// CHECK-NEXT: spatial.stream @enable control @ctrl.co0 -> @n0_ew0_0.ci0, @n1_mr0_s0_p0.ci0, @n1_ew0_0.ci0, @pmu0.ci0, @pmu1.ci0, @ag0.ci0, @ag1.ci0{{$}}
// and one done stream per unit, from its control output co0 to an input of the controller.
// CHECK-NEXT: spatial.stream @done_n0_ew0_0 control @n0_ew0_0.co0 -> @ctrl.ci0{{$}}
// CHECK-NEXT: spatial.stream @done_n1_mr0_s0_p0 control @n1_mr0_s0_p0.co0 -> @ctrl.ci1{{$}}
// CHECK-NEXT: spatial.stream @done_n1_ew0_0 control @n1_ew0_0.co0 -> @ctrl.ci2{{$}}
// CHECK-NEXT: spatial.stream @done_pmu0 control @pmu0.co0 -> @ctrl.ci3{{$}}
// CHECK-NEXT: spatial.stream @done_pmu1 control @pmu1.co0 -> @ctrl.ci4{{$}}
// CHECK-NEXT: spatial.stream @done_ag0 control @ag0.co0 -> @ctrl.ci5{{$}}
// CHECK-NEXT: spatial.stream @done_ag1 control @ag1.co0 -> @ctrl.ci6{{$}}
// CHECK-NEXT: }

// Placed at the centre switch of the 25 x 25 mesh; every enable path starts there and
// every done path ends there.
// ROUTED:      spatial.controller @ctrl at (12, 12)
// ROUTED:      spatial.stream @enable control @ctrl.co0 -> {{.*}} paths [(12, 12){{[^|]*}}] | [(12, 12){{[^|]*}}] | [(12, 12){{[^|]*}}] | [(12, 12){{[^|]*}}] | [(12, 12){{[^|]*}}] | [(12, 12){{[^|]*}}] | [(12, 12){{[^|]*}}]{{$}}
// ROUTED-NEXT: spatial.stream @done_n0_ew0_0 control @n0_ew0_0.co0 -> @ctrl.ci0 paths [{{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: spatial.stream @done_n1_mr0_s0_p0 control {{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: spatial.stream @done_n1_ew0_0 control {{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: spatial.stream @done_pmu0 control {{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: spatial.stream @done_pmu1 control {{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: spatial.stream @done_ag0 control {{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: spatial.stream @done_ag1 control {{.*}}(12, 12)]{{$}}
// ROUTED-NEXT: } {route_rounds = {scalar = 1 : i64, vector = 1 : i64, control = 1 : i64}}

// NODONE: error: spatial-verify: 1 problem: unit 'pmu0': the schedule fires it, and no control route takes its done token to the controller 'ctrl'
