// Package pb holds the generated gRPC code of the node-to-node transport
// (p2p.proto). The generated files are committed so that a plain go build
// needs no tools; regenerate with go generate after editing p2p.proto.
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative p2p.proto
