package testenv

// RemoveProfileForTest exposes removeProfile to the external tests.
var RemoveProfileForTest = removeProfile
