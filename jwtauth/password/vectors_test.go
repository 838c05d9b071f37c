package password_test

// vector is a hash made by another implementation, with the password it
// hashes. testdata/gen_vectors.py made them: pbkdf2_sha256 by Django 3.2's
// own PBKDF2PasswordHasher, bcrypt by the system libcrypt (libxcrypt),
// argon2 by the reference implementation (libargon2), Django's argon2 and
// bcrypt_sha256 forms by the same libraries with Django's prefixes.
type vector struct {
	name     string
	password string
	hash     string
	// benchOnly marks vectors too slow for the race-enabled test run
	// (a million PBKDF2 iterations, bcrypt cost 12); the benchmarks use them.
	benchOnly bool
}

func foreignVectors() []vector {
	return []vector{
		{name: "django pbkdf2_sha256 ascii", password: "Secret-Pass-1!", hash: `pbkdf2_sha256$1000$seasalt2025abcdEFGHijkl$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=`},
		{name: "django pbkdf2_sha256 persian", password: "رمز عبور امن ۱۴۰۳", hash: `pbkdf2_sha256$1000$pErSiAnSaLt0123456789a$2smJtW67/ublC8zO+l8iKvlR0Ec9SWJ2xTyR1+ZWKps=`},
		{name: "django pbkdf2_sha256 spaces", password: "  spaced out  ", hash: `pbkdf2_sha256$1000$SpAcEsAlT9876543210zyx$EpYQeJw4+b2gtafYx14jOJNkHFxMLYoCjyaHt3j0LI0=`},
		{name: "django pbkdf2_sha256 1M (senfi original)", password: "Secret-Pass-1!", hash: `pbkdf2_sha256$1000000$seasalt2025abcdEFGHijkl$M3Ue7EfzstMw4ilmzfpblvwgRwn4Qt9p2v/pRVKjKKA=`, benchOnly: true},
		{name: "django pbkdf2_sha256 default 3.2", password: "Secret-Pass-1!", hash: `pbkdf2_sha256$260000$UpSrlEH2dGRTvy6enSB7hQ$iFwlnV0KYavkog8nWRqS1iW+yaiKyr4BY46lwNST8po=`},
		{name: "bcrypt 2b", password: "correct horse battery staple", hash: `$2b$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS`},
		{name: "bcrypt 2y", password: "correct horse battery staple", hash: `$2y$05$ABCDEFGHIJKLMNOPQRSTUuKGxkAaoBVtx5pBUbkcmXJ9X86rN9gCi`},
		{name: "bcrypt 2a", password: "گذرواژه", hash: `$2a$04$0123456789./ABCDEFGHIunVKe3EHLnI2XcI7v.CYY379G4vji57e`},
		{name: "bcrypt 12", password: "correct horse battery staple", hash: `$2b$12$saltsaltsaltsaltsaltsuaG6MFLuzBPw6GAGbOt.qqeScNuq6TmS`, benchOnly: true},
		{name: "bcrypt over 72 bytes", password: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-tail that bcrypt never sees", hash: `$2b$04$LongLongLongLongLongLuVjVUkxaYYnTKtS5IlZR76tmlKtPyp9e`},
		{name: "django bcrypt_sha256", password: "a password longer than seventy-two bytes a password longer than seventy-two bytes a password longer than seventy-two bytes ", hash: `bcrypt_sha256$$2b$04$zyxwvutsrqponmlkjihgfe9Km2m5TWgoVkSUCvSAvYpe.tahSnlnm`},
		{name: "argon2id reference", password: "correct horse battery staple", hash: `$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4`},
		{name: "argon2id reference small", password: "🔐 کلید", hash: `$argon2id$v=19$m=64,t=1,p=1$YW5vdGhlcjE2Ynl0ZXNhbA$LJLs0csxtVmOeOn/9pQlVlzTeWAuGalCaoN3QF3sFuc`},
		{name: "django argon2id", password: "Secret-Pass-1!", hash: `argon2$argon2id$v=19$m=1024,t=2,p=8$RGphbmdvU2FsdEFiY2RlZjAxMjM$sAUm9aBoeu7dC99KhJicr8riRgsUnlh5vU7F4yGGFCg`},
		{name: "django argon2i", password: "Secret-Pass-1!", hash: `argon2$argon2i$v=19$m=512,t=2,p=2$T2xkRGphbmdvU2FsdDAxMg$Eq6yIluhe/OsIR1j35vbygEioDWg3J7BjddNQKezPSM`},
	}
}

// findVector returns the vector called name.
func findVector(name string) vector {
	for _, v := range foreignVectors() {
		if v.name == name {
			return v
		}
	}
	panic("no vector " + name)
}
