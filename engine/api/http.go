package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/engine/api/pb"
	"github.com/tallyhq/tally/engine/chain"
)

// MaxHTTPBody bounds one HTTP/JSON request body.
const MaxHTTPBody = 64 << 20

var (
	jsonOut = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	jsonIn  = protojson.UnmarshalOptions{DiscardUnknown: false}
)

// UnaryJSON adapts a gRPC handler to HTTP/JSON: POST a JSON request
// message, get the JSON response or an HTTPError with the API code.
func UnaryJSON[Req proto.Message, Resp proto.Message](newReq func() Req, call func(context.Context, Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := newReq()
		if err := readJSON(r, req); err != nil {
			writeError(w, err)
			return
		}
		resp, err := call(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		b, _ := jsonOut.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}

func readJSON(r *http.Request, m proto.Message) error {
	if r.Method != http.MethodPost {
		return Status(invalid("use POST with a JSON body"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxHTTPBody))
	if err != nil {
		return Status(invalid("request body: %v", err))
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := jsonIn.Unmarshal(body, m); err != nil {
		return Status(invalid("request JSON: %v", err))
	}
	return nil
}

// HTTPError is the JSON body of a failed HTTP/JSON request.
type HTTPError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var httpStatus = map[codes.Code]int{
	codes.InvalidArgument: http.StatusBadRequest, codes.NotFound: http.StatusNotFound,
	codes.AlreadyExists: http.StatusConflict, codes.FailedPrecondition: http.StatusPreconditionFailed,
	codes.ResourceExhausted: http.StatusTooManyRequests, codes.Unavailable: http.StatusServiceUnavailable,
}

// WriteError writes err as an HTTPError with the matching HTTP status.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

func writeError(w http.ResponseWriter, err error) {
	st, _ := status.FromError(err)
	code := httpStatus[st.Code()]
	if code == 0 {
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(HTTPError{Code: CodeFromStatus(err).String(), Message: st.Message()})
}

// HTTPHandler serves the API as HTTP/JSON under /v1/.
func HTTPHandler(s *Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/SendTransactions", UnaryJSON(func() *pb.SendTransactionsRequest { return new(pb.SendTransactionsRequest) }, s.SendTransactions))
	mux.Handle("/v1/Call", UnaryJSON(func() *pb.CallRequest { return new(pb.CallRequest) }, s.Call))
	mux.Handle("/v1/GetBlock", UnaryJSON(func() *pb.GetBlockRequest { return new(pb.GetBlockRequest) }, s.GetBlock))
	mux.Handle("/v1/GetTransaction", UnaryJSON(func() *pb.GetByHashRequest { return new(pb.GetByHashRequest) }, s.GetTransaction))
	mux.Handle("/v1/GetReceipt", UnaryJSON(func() *pb.GetByHashRequest { return new(pb.GetByHashRequest) }, s.GetReceipt))
	mux.Handle("/v1/GetReceiptProof", UnaryJSON(func() *pb.GetByHashRequest { return new(pb.GetByHashRequest) }, s.GetReceiptProof))
	mux.Handle("/v1/BlockNumber", UnaryJSON(func() *pb.ChainRequest { return new(pb.ChainRequest) }, s.BlockNumber))
	mux.Handle("/v1/Status", UnaryJSON(func() *pb.ChainRequest { return new(pb.ChainRequest) }, s.Status))
	mux.HandleFunc("/v1/SubscribeBlocks", s.subscribeHTTP)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, Status(fmt.Errorf("%w: no API method at %s; methods are POST /v1/<Method>", chain.ErrNotFound, r.URL.Path)))
	})
	return mux
}

// subscribeHTTP streams blocks as newline-delimited JSON.
func (s *Server) subscribeHTTP(w http.ResponseWriter, r *http.Request) {
	req := new(pb.SubscribeBlocksRequest)
	if err := readJSON(r, req); err != nil {
		writeError(w, err)
		return
	}
	c, _, err := s.lookup(req.ChainId)
	if err != nil {
		writeError(w, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	err = Follow(r.Context(), c, req.FromHeight, req.WithReceipts, func(b *pb.Block) error {
		line, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return // the client is gone or the stream broke; nothing more to say
	}
}
