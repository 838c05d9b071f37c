// Package bench compares the middleware of the senfi kit with the libraries
// it is measured against (its peers), on the same trivial final handler and
// the same requests, with allocations reported.
//
// It is a separate module, with its own go.mod and a replace directive
// pointing at the kit in the parent directory, so that the peers
// (github.com/unrolled/secure, github.com/rs/cors as used directly, and the
// others the later areas add) are dependencies of the benchmarks only and
// never of the kit: a service that imports the kit does not download or
// compile them.
//
// Each area has one benchmark whose sub-benchmarks are named by
// implementation ("bare" is the final handler alone), so every comparison
// comes from one run of one command. Compare the cost each implementation
// adds over bare within the same run; absolute figures move with the machine.
//
// Run from the repository root:
//
//	cd bench && go test -run '^$' -bench . -benchmem ./...
//
// BENCHMARKS.md in the repository root records the figures and the machine
// they were measured on.
package bench
