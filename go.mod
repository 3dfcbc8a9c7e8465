module github.com/kpiwatch/kpiwatch

go 1.26.8

require (
	github.com/go-kit/log v0.2.1
	github.com/prometheus/common v0.73.1
	golang.org/x/text v0.43.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/go-logfmt/logfmt v0.5.1 // indirect
	github.com/kr/pretty v0.3.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/check.v1 v1.0.0-20201130134442-10cb98267c6c // indirect
)
