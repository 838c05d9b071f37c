package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/redisstore"
)

// This example needs a Redis server, so it is compiled but not run.
func Example() {
	client := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Fail fast during an outage: every authenticated request asks the
		// store.
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	})
	defer client.Close()

	store, err := redisstore.New(client, redisstore.Options{Prefix: "senfi:jwt:"})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	now := time.Now()
	// "Log out everywhere": revoke every token of user-42 issued until now,
	// for as long as the longest-lived token (the refresh token) lasts.
	if err := store.RevokeSubject(ctx, "user-42", now, now.Add(7*24*time.Hour)); err != nil {
		log.Fatal(err)
	}
	revoked, err := store.Revoked(ctx, jwtauth.TokenRef{Subject: "user-42", Family: "f1", IssuedAt: now})
	if err != nil {
		log.Fatal(err) // never treat an error as "not revoked"
	}
	fmt.Println("revoked:", revoked)
}
