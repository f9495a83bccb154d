// Package deploy holds no code: it is the Go module of the tests that check
// the container image's Dockerfile, the compose files and the Helm chart
// offline (no container runtime or Kubernetes runs on the build machines).
// It is a module of its own so that Helm's and Kubernetes' libraries, which
// these tests use, are never dependencies of the sluice binary.
package deploy
