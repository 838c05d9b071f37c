package password_test

import (
	"context"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/jwtauth/password"
)

// The cost of one hash computation per algorithm and parameter set: what a
// login or a registration costs the server in CPU time. Run with
//
//	go test -run '^$' -bench . -benchmem ./jwtauth/password/

const benchPassword = "correct horse battery staple"

func BenchmarkHash(b *testing.B) {
	for _, c := range []struct {
		name string
		opts password.Options
	}{
		{"argon2id-m19MiB-t2-p1-default", password.Options{}},
		{"argon2id-m46MiB-t1-p1", password.Options{MemoryKiB: 46 * 1024, Iterations: 1}},
		{"argon2id-m12MiB-t3-p1", password.Options{MemoryKiB: 12 * 1024, Iterations: 3}},
		{"argon2id-m64MiB-t3-p4", password.Options{MemoryKiB: 64 * 1024, Iterations: 3, Parallelism: 4}},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, err := password.New(c.opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Hash(ctx, benchPassword); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := password.New(password.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	current, err := h.Hash(ctx, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct{ name, hash, pw string }{
		{"argon2id-default", current, benchPassword},
	}
	for _, name := range []string{
		"django pbkdf2_sha256 1M (senfi original)",
		"django pbkdf2_sha256 default 3.2",
		"bcrypt 12",
		"bcrypt 2b",
		"django argon2id",
	} {
		v := findVector(name)
		cases = append(cases, struct{ name, hash, pw string }{strings.ReplaceAll(v.name, " ", "-"), v.hash, v.password})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Verify(ctx, c.hash, c.pw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("dummy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.DummyVerify(ctx, benchPassword)
		}
	})
	b.Run("refused-absurd-pbkdf2", func(b *testing.B) {
		const absurd = "pbkdf2_sha256$1000000000000$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk="
		b.ReportAllocs()
		for b.Loop() {
			_, _ = h.Verify(ctx, absurd, benchPassword)
		}
	})
}

// BenchmarkVerifyParallel measures login throughput under contention: at
// most MaxConcurrent (GOMAXPROCS) computations run; the rest queue.
func BenchmarkVerifyParallel(b *testing.B) {
	h, err := password.New(password.Options{})
	if err != nil {
		b.Fatal(err)
	}
	hash, err := h.Hash(context.Background(), benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Verify(context.Background(), hash, benchPassword); err != nil {
				b.Error(err)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	password.CommonPasswords() // load the list outside the measurement
	user := []password.Attribute{
		{Name: "email", Value: "ali.rezaei1380@sharif.edu"},
		{Name: "first_name", Value: "Ali"},
		{Name: "last_name", Value: "Rezaei"},
	}
	cases := []struct {
		name  string
		p     password.Policy
		pw    string
		attrs []password.Attribute
	}{
		{"nist-accepted", password.NIST(), benchPassword, nil},
		{"nist-accepted-3-attributes", password.NIST(), benchPassword, user},
		{"nist-common", password.NIST(), "passwordstandard", nil},
		{"nist-persian-3-attributes", password.NIST(), "رمز عبور خیلی امن من", user},
		{"nist-128-characters-3-attributes", password.NIST(), strings.Repeat("ab3$", 32), user},
		{"nist-1MiB-input", password.NIST(), strings.Repeat("x", 1<<20), user},
		{"legacy-accepted", password.SenfiLegacy(), "Secret-Pass-1!", user},
		{"legacy-every-violation", password.SenfiLegacy(), "ab", user},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.p.Validate(c.pw, c.attrs...)
			}
		})
	}
}

func BenchmarkCommonPasswords(b *testing.B) {
	l := password.CommonPasswords()
	b.Run("contains-hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Contains("iloveyou")
		}
	})
	b.Run("contains-miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Contains(benchPassword)
		}
	})
}
