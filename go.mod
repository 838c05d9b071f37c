module github.com/senfi-sharif/senfi

go 1.26.0

require (
	github.com/justinas/alice v1.2.0
	github.com/rs/cors v1.11.1
)
