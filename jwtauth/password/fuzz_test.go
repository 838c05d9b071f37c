package password

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hashSeeds are well-formed hashes of every supported format and a few
// near misses.
func hashSeeds() []string {
	return []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4",
		"$argon2id$v=19$m=64,t=1,p=1$YW5vdGhlcjE2Ynl0ZXNhbA$LJLs0csxtVmOeOn/9pQlVlzTeWAuGalCaoN3QF3sFuc",
		"$argon2i$v=19$m=512,t=2,p=2$T2xkRGphbmdvU2FsdDAxMg$Eq6yIluhe/OsIR1j35vbygEioDWg3J7BjddNQKezPSM",
		"argon2$argon2id$v=19$m=1024,t=2,p=8$RGphbmdvU2FsdEFiY2RlZjAxMjM$sAUm9aBoeu7dC99KhJicr8riRgsUnlh5vU7F4yGGFCg",
		"$argon2id$v=19$m=4000000000,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4",
		"$argon2id$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHQ",
		"pbkdf2_sha256$1000$seasalt2025abcdEFGHijkl$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=",
		"pbkdf2_sha256$1000000000000$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=",
		"$2b$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS",
		"$2y$31$ABCDEFGHIJKLMNOPQRSTUuKGxkAaoBVtx5pBUbkcmXJ9X86rN9gCi",
		"bcrypt_sha256$$2b$04$zyxwvutsrqponmlkjihgfe9Km2m5TWgoVkSUCvSAvYpe.tahSnlnm",
		"bcrypt$$2a$04$0123456789./ABCDEFGHIunVKe3EHLnI2XcI7v.CYY379G4vji57e",
		"!unusable",
		"md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
		"", "$", "$$$$$", "$argon2id$v=19$m=,t=,p=$$",
	}
}

// knownHashError reports whether err is one the parser may return.
func knownHashError(err error) bool {
	return errors.Is(err, ErrMalformedHash) || errors.Is(err, ErrUnsupportedHash) || errors.Is(err, errUnusable)
}

func FuzzParseHash(f *testing.F) {
	for _, s := range hashSeeds() {
		f.Add(s)
	}
	lim := limits{memory: DefaultMaxMemoryKiB, time: DefaultMaxIterations, threads: DefaultMaxParallelism,
		pbkdf2Iter: DefaultMaxPBKDF2Iterations, bcryptCost: DefaultMaxBcryptCost}
	f.Fuzz(func(t *testing.T, s string) {
		ph, err := parseHash(s)
		if err != nil {
			if !knownHashError(err) {
				t.Fatalf("parseHash(%q): unexpected error %v", s, err)
			}
			return
		}
		switch ph.alg {
		case algArgon2id, algArgon2i:
			if ph.time < 1 || ph.threads < 1 || ph.memory < 8*uint32(ph.threads) ||
				len(ph.salt) < minSaltBytes || len(ph.salt) > maxSaltBytes ||
				len(ph.key) < minKeyBytes || len(ph.key) > maxKeyBytes {
				t.Fatalf("parseHash(%q) accepted out-of-range argon2 parameters %+v", s, ph)
			}
			// The accepted spelling is canonical: it re-encodes to itself.
			re := encodePHC(ph.memory, ph.time, ph.threads, ph.salt, ph.key)
			if ph.alg == algArgon2i {
				re = strings.Replace(re, "$argon2id$", "$argon2i$", 1)
			}
			if ph.django {
				re = "argon2" + re
			}
			if re != s {
				t.Fatalf("parseHash(%q) is not canonical: re-encodes to %q", s, re)
			}
		case algBcrypt, algBcryptSHA256:
			if len(ph.bcrypt) != bcryptLen || ph.cost < bcryptMinCost || ph.cost > bcryptMaxCost ||
				!strings.HasSuffix(s, ph.bcrypt) {
				t.Fatalf("parseHash(%q) accepted bad bcrypt %+v", s, ph)
			}
		case algPBKDF2SHA256:
			if ph.iterations < 1 || len(ph.key) != pbkdf2KeyBytes || len(ph.salt) == 0 {
				t.Fatalf("parseHash(%q) accepted bad pbkdf2 %+v", s, ph)
			}
			re := "pbkdf2_sha256$" + strconv.Itoa(ph.iterations) + "$" + string(ph.salt) + "$" +
				base64.StdEncoding.EncodeToString(ph.key)
			if re != s {
				t.Fatalf("parseHash(%q) is not canonical: re-encodes to %q", s, re)
			}
		default:
			t.Fatalf("parseHash(%q) returned algorithm %d", s, ph.alg)
		}
		// Within the limits means within the limits.
		if lim.check(ph) == nil {
			if ph.memory > lim.memory || ph.time > lim.time || ph.threads > lim.threads ||
				ph.iterations > lim.pbkdf2Iter || ph.cost > lim.bcryptCost {
				t.Fatalf("limits.check passed %q with %+v", s, ph)
			}
		} else if !errors.Is(lim.check(ph), ErrCostLimit) {
			t.Fatalf("limits.check(%q) returned %v", s, lim.check(ph))
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, s := range hashSeeds() {
		f.Add(s, "correct horse battery staple")
	}
	f.Add("$argon2id$v=19$m=64,t=1,p=1$YW5vdGhlcjE2Ynl0ZXNhbA$LJLs0csxtVmOeOn/9pQlVlzTeWAuGalCaoN3QF3sFuc", "🔐 کلید")
	// Tight limits keep every accepted hash cheap, so the fuzzer explores
	// the parsers rather than waiting on key derivation.
	h, err := newHasher(Options{
		MemoryKiB: 64, Iterations: 1, MaxMemoryKiB: 256, MaxIterations: 2, MaxParallelism: 2,
		MaxPBKDF2Iterations: 2000, MaxBcryptCost: 4, MaxPasswordBytes: 256,
	}, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, hash, pw string) {
		rehash, err := h.Verify(context.Background(), hash, pw)
		switch {
		case err == nil:
			// A match on fuzzed input is only possible for a hash of pw;
			// whatever it is, NeedsRehash must agree with Verify.
			if rehash != h.NeedsRehash(hash) {
				t.Fatalf("Verify(%q) rehash=%v, NeedsRehash=%v", hash, rehash, !rehash)
			}
		case errors.Is(err, ErrMismatch), errors.Is(err, ErrMalformedHash), errors.Is(err, ErrUnsupportedHash),
			errors.Is(err, ErrCostLimit), errors.Is(err, ErrEmptyPassword), errors.Is(err, ErrPasswordTooLong):
			if rehash {
				t.Fatalf("Verify(%q) failed with %v but asked for a rehash", hash, err)
			}
		default:
			t.Fatalf("Verify(%q, %q): unexpected error %v", hash, pw, err)
		}
	})
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"", "password", "correct horse battery staple", "Secret-Pass-1!", "۱۲۳۴۵۶۷۸", "e\u0301e\u0301",
		"  spaced  ", "\xff\xfe", strings.Repeat("🔐", 40), "ali.rezaei1380", "ALI_REZAEI",
	} {
		f.Add(s, "ali.rezaei@sharif.edu")
	}
	policies := map[string]Policy{"NIST": NIST(), "SenfiLegacy": SenfiLegacy(), "zero": {}}
	f.Fuzz(func(t *testing.T, pw, attr string) {
		n := utf8.RuneCountInString(pw)
		for name, p := range policies {
			err := p.Validate(pw, Attribute{Name: "email", Value: attr})
			if err == nil {
				if n < p.withDefaults().MinLength || n > p.withDefaults().MaxLength {
					t.Fatalf("%s accepted %q of length %d", name, pw, n)
				}
				continue
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) == 0 || !errors.Is(err, ErrRejected) {
				t.Fatalf("%s.Validate(%q): %v", name, pw, err)
			}
			q := p.withDefaults()
			if got, want := ve.Has(RuleTooShort), n < q.MinLength; got != want {
				t.Fatalf("%s: %q has %d characters, too short reported %v", name, pw, n, got)
			}
			if got, want := ve.Has(RuleTooLong), n > q.MaxLength; got != want {
				t.Fatalf("%s: %q has %d characters, too long reported %v", name, pw, n, got)
			}
			if ve.Has(RuleTooLong) && (ve.Has(RuleCommon) || ve.Has(RuleSimilar)) {
				t.Fatalf("%s: content checks ran on a too long password", name)
			}
			allDigits := n > 0 && !strings.ContainsFunc(pw, func(r rune) bool { return !unicode.IsDigit(r) })
			if got, want := ve.Has(RuleNumeric), p.RejectNumeric && allDigits; got != want {
				t.Fatalf("%s: %q numeric reported %v", name, pw, got)
			}
			seen := map[Rule]bool{}
			for _, v := range ve.Violations {
				if seen[v.Rule] {
					t.Fatalf("%s: rule %s reported twice", name, v.Rule)
				}
				seen[v.Rule] = true
				if (v.Rule == RuleTooShort || v.Rule == RuleTooLong) && v.Length != n {
					t.Fatalf("%s: Length %d, want %d", name, v.Length, n)
				}
			}
		}
	})
}

func FuzzParseRange(f *testing.F) {
	f.Add([]byte("1E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0"))
	f.Add([]byte("\n\n"))
	f.Add([]byte("1E4C9B93F3F0682250B6CF8331B7EE68FD8:-1"))
	f.Add([]byte("1E4C9B93F3F0682250B6CF8331B7EE68FD8:99999999999999999999999"))
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, err := parseRange(body)
		if err != nil {
			if !errors.Is(err, ErrBreachUnavailable) {
				t.Fatalf("parseRange: unexpected error %v", err)
			}
			return
		}
		for _, e := range entries {
			if len(e.Suffix) != 35 || !isHex(e.Suffix) || e.Count < 0 {
				t.Fatalf("parseRange accepted %+v", e)
			}
		}
	})
}
