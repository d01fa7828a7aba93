// The default pipeline to config.json, its simulation and its picture, from the command line.
// RUN: rm -rf %t && mkdir -p %t
// RUN: rnnc gen lstm 8 3 --input 5 -o %t/m.mlir
// RUN: rnnc %t/m.mlir -o %t/config.json | filecheck %s --check-prefix=COMPILE
// COMPILE: config.json: design hu={{[0-9]+}} ru={{[0-9]+}} rv={{[0-9]+}}; {{[0-9]+}} PCUs, {{[0-9]+}} PMUs, {{[0-9]+}} AGs, {{[0-9]+}} routes; predicted {{[0-9.e-]+}} ms ({{[0-9]+}} cycles, mixed)
// RUN: mkdir %t/again && rnnc %t/m.mlir -o %t/again/config.json > /dev/null
// RUN: diff %t/config.json %t/again/config.json
// RUN: cmp %t/config.weights.npz %t/again/config.weights.npz
// RUN: rnnc sim %t/config.json --inputs %t/m.inputs.npz -o %t/out.npz --report %t/report.json | filecheck %s --check-prefix=SIM
// SIM: config.json: {{[0-9]+}} cycles = {{[0-9.e-]+}} ms at 1 GHz; {{[0-9.]+}} cycles per step; {{[0-9]+}} steps simulated, {{[0-9]+}} extrapolated
// RUN: filecheck %s --check-prefix=REPORT --input-file=%t/report.json
// REPORT: "steps": {
// REPORT-NEXT: "extrapolated": {{[0-9]+}},
// REPORT-NEXT: "simulated": {{[0-9]+}},
// REPORT-NEXT: "total": 3
// REPORT: "pcu": {
// REPORT-NEXT: "busy_cycles": {{[0-9]+}},
// REPORT-NEXT: "stalled_by": {
// RUN: rnnc show %t/config.json -o %t/place.svg
// Two chips: the same values, and the exchange timed.
// RUN: rnnc %t/m.mlir -o %t/two.json --chips 2 | filecheck %s --check-prefix=TWO
// TWO: two.json: 2 chips: design hu={{[0-9]+}} ru={{[0-9]+}} rv={{[0-9]+}}; {{[0-9]+}} PCUs, {{[0-9]+}} PMUs, {{[0-9]+}} AGs, {{[0-9]+}} routes; predicted {{[0-9.e-]+}} ms ({{[0-9]+}} cycles, mixed)
// RUN: rnnc sim %t/two.json --inputs %t/m.inputs.npz -o %t/two.npz --report %t/two-report.json
// RUN: filecheck %s --check-prefix=EXCHANGE --input-file=%t/two-report.json
// each chip's 4 words of h, 16 bytes at 12.5 bytes per cycle, then 500 cycles' latency,
// plus the on-chip legs: 13 hops from the writes to the link port, 8 on to the h PMUs
// EXCHANGE: "exchange": {
// EXCHANGE-NEXT: "cycles_per_step": 523,
// EXCHANGE-NEXT: "links": 2,
// EXCHANGE-NEXT: "topology": "ring"
// RUN: filecheck %s --check-prefix=SVG --input-file=%t/place.svg
// SVG: <svg

// Bad input: one diagnostic, exit 1, no output.
// RUN: not rnnc %t/m.mlir --emit=config 2>&1 | filecheck %s --check-prefix=NOFILE
// NOFILE: --emit=config: error: a configuration is written to a file with its weights beside it: give -o FILE.json
// RUN: not rnnc %t/m.mlir -o %t/nine.json --chips 9 2>&1 | filecheck %s --check-prefix=CHIPS
// CHIPS: m.mlir: error: loop-assign-resources: cannot split a nest of extent 8 over 9 chips
// RUN: not ls %t/nine.json %t/nine.weights.npz
// RUN: not rnnc sim %t/none.json --inputs %t/m.inputs.npz 2>&1 | filecheck %s --check-prefix=MISSING
// MISSING: none.json: error: no such file
// RUN: sed 's/"format": "rnnc-config"/"format": "other"/' %t/config.json > %t/bad.json
// RUN: not rnnc sim %t/bad.json --inputs %t/m.inputs.npz -o %t/bad.npz 2>&1 | filecheck %s --check-prefix=FORMAT
// FORMAT: bad.json: error: field 'format': expected "rnnc-config", got "other"
// RUN: not ls %t/bad.npz
// RUN: sed 's/"format_version": "2\.[0-9]*"/"format_version": "3.0"/' %t/config.json > %t/v3.json
// RUN: not rnnc sim %t/v3.json --inputs %t/m.inputs.npz 2>&1 | filecheck %s --check-prefix=VERSION
// VERSION: v3.json: error: field 'format_version': expected a string matching ^2\.[0-9]+$, got "3.0"
// RUN: not rnnc show %t/config.json -o %t/place.gif 2>&1 | filecheck %s --check-prefix=PICTURE
// PICTURE: place.gif: error: unknown picture format '.gif' (expected .svg or .png)
// RUN: not rnnc sim %t/config.json --inputs %t/m.npz 2>&1 | filecheck %s --check-prefix=INPUTS
// INPUTS: error: missing input(s) X (the configuration takes X)
