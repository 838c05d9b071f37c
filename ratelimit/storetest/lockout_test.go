package storetest_test

import (
	"testing"

	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

func TestLockoutMemoryStore(t *testing.T) {
	storetest.RunLockout(t, func(t *testing.T) ratelimit.LockoutStore {
		return ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	})
}
