package data_test

import (
	"fmt"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// Database URLs: a relative SQLite path lives in the data directory.
func ExampleParseURL() {
	t, _ := data.ParseURL("sqlite://senfi.db", "/var/lib/senfi")
	fmt.Println(t.Engine, t.Path)
	t, _ = data.ParseURL("postgres://senfi@db:5432/senfi", "/var/lib/senfi")
	fmt.Println(t.Engine)
	_, err := data.ParseURL("mysql://x", ".")
	fmt.Println(err)
	// Output:
	// sqlite /var/lib/senfi/senfi.db
	// postgres
	// database URL must start with postgres://, postgresql:// or sqlite://
}
