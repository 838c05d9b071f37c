package storetest_test

import (
	"testing"

	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		return ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	})
}
