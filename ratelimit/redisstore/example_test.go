package redisstore_test

import (
	"log"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/redisstore"
)

// This example needs a Redis server, so it is compiled but not run.
func Example() {
	client := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Let the Limiter's StoreTimeout bound every call, so that an outage
		// fails requests (503, or through with FailOpen) within 100 ms
		// instead of holding them for the client's read timeout.
		ContextTimeoutEnabled: true,
		DialTimeout:           500 * time.Millisecond,
	})
	defer client.Close()

	// One store for every limiter of the application, on every replica.
	store, err := redisstore.New(client, redisstore.Options{Prefix: "senfi:rl:"})
	if err != nil {
		log.Fatal(err)
	}
	policy, err := ratelimit.ParsePolicy("5/m")
	if err != nil {
		log.Fatal(err)
	}
	login, err := ratelimit.New(ratelimit.Options{
		Name:   "login",
		Policy: policy,
		Store:  store, // keys: senfi:rl:login:ip:<client address>
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /api/auth/login", login.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	log.Fatal(http.ListenAndServe(":8080", mux))
}
