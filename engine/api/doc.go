// Package api serves a node's client API — send transactions, call, blocks,
// transactions, receipts with proofs, a committed-block stream, status — over
// gRPC and, from the same handlers, as HTTP/JSON (POST /v1/<Method> with the
// request message as JSON). Every bad request gets an error code (pb.ErrorCode,
// also the gRPC ErrorInfo reason) and a message that says what to fix.
package api
