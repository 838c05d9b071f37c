package clientip_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"

	"github.com/senfi-sharif/senfi/internal/clientip"
)

// A proxy at 10.0.0.2 is trusted: the right-most address it did not add
// itself is the client. A client talking directly cannot choose its address
// with a forged header.
func ExampleResolver() {
	rv := clientip.NewResolver([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "X-Forwarded-For")

	viaProxy := httptest.NewRequest("GET", "/", nil)
	viaProxy.RemoteAddr = "10.0.0.2:41000"
	viaProxy.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.9")
	fmt.Println(rv.Resolve(viaProxy))

	direct := httptest.NewRequest("GET", "/", nil)
	direct.RemoteAddr = "203.0.113.50:5000"
	direct.Header.Set("X-Forwarded-For", "1.2.3.4")
	fmt.Println(rv.Resolve(direct))
	// Output:
	// 203.0.113.9
	// 203.0.113.50
}
