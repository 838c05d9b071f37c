package password

// NewWeakForTest is New without the OWASP floors on the argon2id
// parameters, so that black-box tests can use cheap hashes.
func NewWeakForTest(opts Options) (*Hasher, error) { return newHasher(opts, true) }
