package api

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
	"github.com/tallyhq/tally/engine/txpool"
	"github.com/tallyhq/tally/engine/types"
)

// ErrUnknownChain is returned for a chain id the node does not host.
var ErrUnknownChain = errors.New("this node does not host that chain")

// ErrorDomain is the ErrorInfo domain of Tally errors.
const ErrorDomain = "tally"

var codeOf = []struct {
	err  error
	code pb.ErrorCode
}{
	{types.ErrMalformed, pb.ErrorCode_MALFORMED},
	{types.ErrBadSignature, pb.ErrorCode_BAD_SIGNATURE},
	{types.ErrMissingKey, pb.ErrorCode_BAD_SIGNATURE},
	{types.ErrUnexpectedKey, pb.ErrorCode_BAD_SIGNATURE},
	{types.ErrWrongChain, pb.ErrorCode_WRONG_CHAIN},
	{chain.ErrNonceUsed, pb.ErrorCode_NONCE_USED},
	{txpool.ErrNonceInUse, pb.ErrorCode_NONCE_USED},
	{chain.ErrBlockLimitExpired, pb.ErrorCode_BLOCK_LIMIT_EXPIRED},
	{chain.ErrBlockLimitTooFar, pb.ErrorCode_BLOCK_LIMIT_TOO_FAR},
	{types.ErrTxTooLarge, pb.ErrorCode_TX_TOO_LARGE},
	{chain.ErrGasTooLow, pb.ErrorCode_GAS_TOO_LOW},
	{chain.ErrGasTooHigh, pb.ErrorCode_GAS_TOO_HIGH},
	{txpool.ErrFull, pb.ErrorCode_POOL_FULL},
	{txpool.ErrKnown, pb.ErrorCode_ALREADY_KNOWN},
	{chain.ErrNotFound, pb.ErrorCode_NOT_FOUND},
	{ErrUnknownChain, pb.ErrorCode_UNKNOWN_CHAIN},
	{chain.ErrHalted, pb.ErrorCode_HALTED},
	{errInvalid, pb.ErrorCode_INVALID_ARGUMENT},
	{errTooMany, pb.ErrorCode_TOO_MANY},
}

var (
	errInvalid = errors.New("invalid argument")
	errTooMany = errors.New("too many items in one request")
)

// invalid builds an INVALID_ARGUMENT error.
func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, a...))
}

// Code maps an error to its API code.
func Code(err error) pb.ErrorCode {
	if err == nil {
		return pb.ErrorCode_OK
	}
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return pb.ErrorCode_INTERNAL
}

var grpcCodes = map[pb.ErrorCode]codes.Code{
	pb.ErrorCode_MALFORMED: codes.InvalidArgument, pb.ErrorCode_INVALID_ARGUMENT: codes.InvalidArgument,
	pb.ErrorCode_BAD_SIGNATURE: codes.InvalidArgument, pb.ErrorCode_WRONG_CHAIN: codes.InvalidArgument,
	pb.ErrorCode_NONCE_USED: codes.AlreadyExists, pb.ErrorCode_ALREADY_KNOWN: codes.AlreadyExists,
	pb.ErrorCode_BLOCK_LIMIT_EXPIRED: codes.FailedPrecondition, pb.ErrorCode_BLOCK_LIMIT_TOO_FAR: codes.FailedPrecondition,
	pb.ErrorCode_TX_TOO_LARGE: codes.InvalidArgument, pb.ErrorCode_GAS_TOO_LOW: codes.InvalidArgument,
	pb.ErrorCode_GAS_TOO_HIGH: codes.InvalidArgument, pb.ErrorCode_POOL_FULL: codes.ResourceExhausted,
	pb.ErrorCode_TOO_MANY: codes.ResourceExhausted, pb.ErrorCode_NOT_FOUND: codes.NotFound,
	pb.ErrorCode_UNKNOWN_CHAIN: codes.NotFound, pb.ErrorCode_HALTED: codes.Unavailable,
}

// Status converts err to a gRPC status error carrying the API code as the
// ErrorInfo reason.
func Status(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := Code(err)
	gc, ok := grpcCodes[code]
	if !ok {
		gc = codes.Internal
	}
	st := status.New(gc, err.Error())
	if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: code.String(), Domain: ErrorDomain}); derr == nil {
		st = d
	}
	return st.Err()
}

// CodeFromStatus extracts the API code from a gRPC error (client side).
func CodeFromStatus(err error) pb.ErrorCode {
	st, ok := status.FromError(err)
	if !ok {
		return pb.ErrorCode_INTERNAL
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == ErrorDomain {
			return pb.ErrorCode(pb.ErrorCode_value[info.Reason])
		}
	}
	return pb.ErrorCode_INTERNAL
}
