module github.com/switchboard-sim/switchboard

go 1.26

require (
	github.com/expr-lang/expr v1.17.8
	go.yaml.in/yaml/v3 v3.0.6
)

require github.com/stretchr/testify v1.12.1
