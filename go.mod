module github.com/senfi-sharif/senfi

go 1.26.0

require (
	github.com/justinas/alice v1.2.0
	github.com/rs/cors v1.11.1
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
