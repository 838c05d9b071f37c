package storetest_test

import (
	"testing"

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jwtauth.Store {
		return jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{})
	})
}
