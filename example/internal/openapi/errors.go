package openapi

import "errors"

// ErrBundleURL reports an unusable HandlerOptions.RedocBundleURL: the URL
// becomes a script source of the ReDoc page's policy, so only URLs that can
// neither widen nor break it are accepted.
var ErrBundleURL = errors.New("openapi: RedocBundleURL must be an https URL, an http URL of a loopback host, or a path on this server, without quotes, spaces, commas or semicolons")

// ErrBundleIntegrity reports an unusable HandlerOptions.RedocBundleIntegrity.
var ErrBundleIntegrity = errors.New(`openapi: RedocBundleIntegrity must be one Subresource Integrity hash: "sha256-", "sha384-" or "sha512-" and the base64 digest`)
