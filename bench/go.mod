module github.com/senfi-sharif/senfi/bench

go 1.26.0

require (
	github.com/rs/cors v1.11.1
	github.com/senfi-sharif/senfi v0.0.0
	github.com/unrolled/secure v1.18.0
)

replace github.com/senfi-sharif/senfi => ../
