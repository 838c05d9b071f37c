package storetest_test

import (
	"testing"

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/storetest"
)

// A third-party Store runs the same conformance suite as the stores of this
// module, in a test of its own package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) jwtauth.Store { return mystore.New(...) })
//	}
func ExampleRun() {
	var t *testing.T // the *testing.T of your test function
	if t == nil {
		return // this example only shows the call
	}
	storetest.Run(t, func(t *testing.T) jwtauth.Store {
		return jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{})
	})
}
