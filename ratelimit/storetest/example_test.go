package storetest_test

import (
	"testing"

	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

// A third-party Store runs the same conformance suite as the stores of this
// module, in a test of its own package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ratelimit.Store { return mystore.New(...) })
//	}
func ExampleRun() {
	var t *testing.T // the *testing.T of your test function
	if t == nil {
		return // this example only shows the call
	}
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		return ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	})
}
