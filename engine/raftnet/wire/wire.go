package wire

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ethereum/go-ethereum/rlp"
	"github.com/hashicorp/raft"
)

// Kind is the first byte of an encoded RPC. A request and its response share
// a Kind.
type Kind byte

// The RPC kinds.
const (
	KindAppendEntries   Kind = 1
	KindRequestVote     Kind = 2
	KindRequestPreVote  Kind = 3
	KindInstallSnapshot Kind = 4
	KindTimeoutNow      Kind = 5
)

// String returns the RPC name of k.
func (k Kind) String() string {
	switch k {
	case KindAppendEntries:
		return "AppendEntries"
	case KindRequestVote:
		return "RequestVote"
	case KindRequestPreVote:
		return "RequestPreVote"
	case KindInstallSnapshot:
		return "InstallSnapshot"
	case KindTimeoutNow:
		return "TimeoutNow"
	default:
		return fmt.Sprintf("Kind(%d)", byte(k))
	}
}

func (k Kind) valid() bool { return k >= KindAppendEntries && k <= KindTimeoutNow }

// MaxMessageBytes bounds an encoded message. Encode* refuse to produce a
// larger message and Decode* reject larger input before parsing it.
const MaxMessageBytes = 64 << 20

var (
	// ErrMalformed is wrapped by every error Decode* return for bad input.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrTooLarge is wrapped (in addition to ErrMalformed on decode) when a
	// message exceeds MaxMessageBytes.
	ErrTooLarge = errors.New("wire: message too large")
	// ErrInvalid is wrapped by every error Encode* return for a value that
	// cannot be encoded (unsupported type, nil pointer, out-of-range field).
	ErrInvalid = errors.New("wire: cannot encode message")
)

// EncodeRequest encodes a *raft.AppendEntriesRequest,
// *raft.RequestVoteRequest, *raft.RequestPreVoteRequest,
// *raft.InstallSnapshotRequest or *raft.TimeoutNowRequest. For
// InstallSnapshot, snapshot is the snapshot bytes and its length must equal
// the request's Size; for every other kind it must be empty.
func EncodeRequest(req any, snapshot []byte) ([]byte, error) {
	var (
		kind Kind
		m    any
		err  error
	)
	switch r := req.(type) {
	case *raft.AppendEntriesRequest:
		kind = KindAppendEntries
		if r != nil {
			m, err = fromAppendEntriesRequest(r)
		}
	case *raft.RequestVoteRequest:
		kind = KindRequestVote
		if r != nil {
			m, err = fromRequestVoteRequest(r)
		}
	case *raft.RequestPreVoteRequest:
		kind = KindRequestPreVote
		if r != nil {
			m, err = fromRequestPreVoteRequest(r)
		}
	case *raft.InstallSnapshotRequest:
		kind = KindInstallSnapshot
		if r != nil {
			m, err = fromInstallSnapshotRequest(r, snapshot)
		}
	case *raft.TimeoutNowRequest:
		kind = KindTimeoutNow
		if r != nil {
			m, err = fromTimeoutNowRequest(r)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported request type %T", ErrInvalid, req)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v request: %w", ErrInvalid, kind, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: nil %T", ErrInvalid, req)
	}
	if kind != KindInstallSnapshot && len(snapshot) != 0 {
		return nil, fmt.Errorf("%w: snapshot bytes given for a %v request", ErrInvalid, kind)
	}
	return encode(kind, m)
}

// EncodeResponse encodes a *raft.AppendEntriesResponse,
// *raft.RequestVoteResponse, *raft.RequestPreVoteResponse,
// *raft.InstallSnapshotResponse or *raft.TimeoutNowResponse.
func EncodeResponse(resp any) ([]byte, error) {
	var (
		kind Kind
		m    any
		err  error
	)
	switch r := resp.(type) {
	case *raft.AppendEntriesResponse:
		kind = KindAppendEntries
		if r != nil {
			m, err = fromAppendEntriesResponse(r)
		}
	case *raft.RequestVoteResponse:
		kind = KindRequestVote
		if r != nil {
			m, err = fromRequestVoteResponse(r)
		}
	case *raft.RequestPreVoteResponse:
		kind = KindRequestPreVote
		if r != nil {
			m, err = fromRequestPreVoteResponse(r)
		}
	case *raft.InstallSnapshotResponse:
		kind = KindInstallSnapshot
		if r != nil {
			m, err = fromInstallSnapshotResponse(r)
		}
	case *raft.TimeoutNowResponse:
		kind = KindTimeoutNow
		if r != nil {
			m, err = fromTimeoutNowResponse(r)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported response type %T", ErrInvalid, resp)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v response: %w", ErrInvalid, kind, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: nil %T", ErrInvalid, resp)
	}
	return encode(kind, m)
}

// DecodeRequest decodes a message produced by EncodeRequest. It returns the
// kind, a pointer to the raft request struct (*raft.AppendEntriesRequest and
// so on) and, for InstallSnapshot, the snapshot bytes (nil otherwise, and nil
// for an empty snapshot).
func DecodeRequest(b []byte) (Kind, any, []byte, error) {
	kind, body, err := split(b)
	if err != nil {
		return 0, nil, nil, err
	}
	var (
		req  any
		snap []byte
	)
	switch kind {
	case KindAppendEntries:
		var m appendEntriesRequest
		if err = decodeBody(body, &m); err == nil {
			req, err = m.toRaft()
		}
	case KindRequestVote:
		var m requestVoteRequest
		if err = decodeBody(body, &m); err == nil {
			req, err = m.toRaft()
		}
	case KindRequestPreVote:
		var m requestPreVoteRequest
		if err = decodeBody(body, &m); err == nil {
			req, err = m.toRaft()
		}
	case KindInstallSnapshot:
		var m installSnapshotRequest
		if err = decodeBody(body, &m); err == nil {
			req, err = m.toRaft()
			snap = nilIfEmpty(m.Snapshot)
		}
	case KindTimeoutNow:
		var m timeoutNowRequest
		if err = decodeBody(body, &m); err == nil {
			req, err = m.toRaft()
		}
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v request: %w", ErrMalformed, kind, err)
	}
	return kind, req, snap, nil
}

// DecodeResponse decodes a message produced by EncodeResponse, which must be
// of kind want. It returns a pointer to the raft response struct
// (*raft.AppendEntriesResponse and so on).
func DecodeResponse(want Kind, b []byte) (any, error) {
	kind, body, err := split(b)
	if err != nil {
		return nil, err
	}
	if !want.valid() {
		return nil, fmt.Errorf("wire: DecodeResponse called with unknown kind %v", want)
	}
	if kind != want {
		return nil, fmt.Errorf("%w: got a %v response, want %v", ErrMalformed, kind, want)
	}
	var resp any
	switch kind {
	case KindAppendEntries:
		var m appendEntriesResponse
		if err = decodeBody(body, &m); err == nil {
			resp, err = m.toRaft()
		}
	case KindRequestVote:
		var m requestVoteResponse
		if err = decodeBody(body, &m); err == nil {
			resp, err = m.toRaft()
		}
	case KindRequestPreVote:
		var m requestPreVoteResponse
		if err = decodeBody(body, &m); err == nil {
			resp, err = m.toRaft()
		}
	case KindInstallSnapshot:
		var m installSnapshotResponse
		if err = decodeBody(body, &m); err == nil {
			resp, err = m.toRaft()
		}
	case KindTimeoutNow:
		var m timeoutNowResponse
		if err = decodeBody(body, &m); err == nil {
			resp, err = m.toRaft()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v response: %w", ErrMalformed, kind, err)
	}
	return resp, nil
}

func encode(kind Kind, m any) ([]byte, error) {
	body, err := rlp.EncodeToBytes(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %w", ErrInvalid, kind, err)
	}
	if 1+len(body) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %w: %v message is %d bytes, limit %d",
			ErrInvalid, ErrTooLarge, kind, 1+len(body), MaxMessageBytes)
	}
	out := make([]byte, 1+len(body))
	out[0] = byte(kind)
	copy(out[1:], body)
	return out, nil
}

// split checks the size and kind of b and returns the RLP body.
func split(b []byte) (Kind, []byte, error) {
	if len(b) > MaxMessageBytes {
		return 0, nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrMalformed, ErrTooLarge, len(b), MaxMessageBytes)
	}
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("%w: empty message", ErrMalformed)
	}
	kind := Kind(b[0])
	if !kind.valid() {
		return 0, nil, fmt.Errorf("%w: unknown kind %d", ErrMalformed, b[0])
	}
	return kind, b[1:], nil
}

// decodeBody decodes exactly one canonical RLP value from body into m;
// rlp.DecodeBytes rejects trailing bytes and non-canonical encodings.
func decodeBody(body []byte, m any) error {
	return rlp.DecodeBytes(body, m)
}

// --- field conversions ---

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nonNegative(name string, v int64) (uint64, error) {
	if v < 0 {
		return 0, fmt.Errorf("negative %s %d", name, v)
	}
	return uint64(v), nil
}

func toInt(name string, v uint64) (int, error) {
	if v > math.MaxInt {
		return 0, fmt.Errorf("%s %d out of range", name, v)
	}
	return int(v), nil
}

type header struct {
	ProtocolVersion uint64
	ID              []byte
	Addr            []byte
}

// fromHeader returns the wire form of h. The raft.RPCHeader fields are
// flattened into each message list rather than nested.
func fromHeader(h raft.RPCHeader) (uint64, []byte, []byte, error) {
	pv, err := nonNegative("ProtocolVersion", int64(h.ProtocolVersion))
	return pv, h.ID, h.Addr, err
}

func toHeader(pv uint64, id, addr []byte) (raft.RPCHeader, error) {
	v, err := toInt("ProtocolVersion", pv)
	if err != nil {
		return raft.RPCHeader{}, err
	}
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersion(v), ID: nilIfEmpty(id), Addr: nilIfEmpty(addr)}, nil
}

type wireLog struct {
	Index         uint64
	Term          uint64
	Type          uint8
	Data          []byte
	Extensions    []byte
	HasAppendedAt bool
	AppendedAt    uint64 // int64 Unix nanoseconds, two's complement
}

func fromLog(l *raft.Log) (wireLog, error) {
	if l == nil {
		return wireLog{}, errors.New("nil log entry")
	}
	w := wireLog{Index: l.Index, Term: l.Term, Type: uint8(l.Type), Data: l.Data, Extensions: l.Extensions}
	if !l.AppendedAt.IsZero() {
		ns := l.AppendedAt.UnixNano()
		if !time.Unix(0, ns).Equal(l.AppendedAt) {
			return wireLog{}, fmt.Errorf("log %d: AppendedAt %v outside the int64 Unix nanosecond range", l.Index, l.AppendedAt)
		}
		w.HasAppendedAt, w.AppendedAt = true, uint64(ns)
	}
	return w, nil
}

func (w *wireLog) toRaft() (*raft.Log, error) {
	l := &raft.Log{Index: w.Index, Term: w.Term, Type: raft.LogType(w.Type), Data: nilIfEmpty(w.Data), Extensions: nilIfEmpty(w.Extensions)}
	switch {
	case w.HasAppendedAt:
		l.AppendedAt = time.Unix(0, int64(w.AppendedAt)).UTC()
	case w.AppendedAt != 0:
		return nil, fmt.Errorf("log %d: AppendedAt %d set without presence flag", w.Index, w.AppendedAt)
	}
	return l, nil
}

// --- AppendEntries ---

type appendEntriesRequest struct {
	ProtocolVersion   uint64
	ID                []byte
	Addr              []byte
	Term              uint64
	Leader            []byte
	PrevLogEntry      uint64
	PrevLogTerm       uint64
	Entries           []wireLog
	LeaderCommitIndex uint64
}

func fromAppendEntriesRequest(r *raft.AppendEntriesRequest) (*appendEntriesRequest, error) {
	//lint:ignore SA1019 the deprecated field is carried so that every field round-trips
	m := &appendEntriesRequest{Term: r.Term, Leader: r.Leader, PrevLogEntry: r.PrevLogEntry, PrevLogTerm: r.PrevLogTerm, LeaderCommitIndex: r.LeaderCommitIndex}
	var err error
	if m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader); err != nil {
		return nil, err
	}
	if len(r.Entries) > 0 {
		m.Entries = make([]wireLog, len(r.Entries))
		for i, l := range r.Entries {
			if m.Entries[i], err = fromLog(l); err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
		}
	}
	return m, nil
}

func (m *appendEntriesRequest) toRaft() (*raft.AppendEntriesRequest, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the deprecated field is carried so that every field round-trips
	r := &raft.AppendEntriesRequest{RPCHeader: h, Term: m.Term, Leader: nilIfEmpty(m.Leader), PrevLogEntry: m.PrevLogEntry, PrevLogTerm: m.PrevLogTerm, LeaderCommitIndex: m.LeaderCommitIndex}
	if len(m.Entries) > 0 {
		r.Entries = make([]*raft.Log, len(m.Entries))
		for i := range m.Entries {
			if r.Entries[i], err = m.Entries[i].toRaft(); err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
		}
	}
	return r, nil
}

type appendEntriesResponse struct {
	ProtocolVersion uint64
	ID              []byte
	Addr            []byte
	Term            uint64
	LastLog         uint64
	Success         bool
	NoRetryBackoff  bool
}

func fromAppendEntriesResponse(r *raft.AppendEntriesResponse) (*appendEntriesResponse, error) {
	m := &appendEntriesResponse{Term: r.Term, LastLog: r.LastLog, Success: r.Success, NoRetryBackoff: r.NoRetryBackoff}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *appendEntriesResponse) toRaft() (*raft.AppendEntriesResponse, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.AppendEntriesResponse{RPCHeader: h, Term: m.Term, LastLog: m.LastLog, Success: m.Success, NoRetryBackoff: m.NoRetryBackoff}, nil
}

// --- RequestVote ---

type requestVoteRequest struct {
	ProtocolVersion    uint64
	ID                 []byte
	Addr               []byte
	Term               uint64
	Candidate          []byte
	LastLogIndex       uint64
	LastLogTerm        uint64
	LeadershipTransfer bool
}

func fromRequestVoteRequest(r *raft.RequestVoteRequest) (*requestVoteRequest, error) {
	//lint:ignore SA1019 the deprecated field is carried so that every field round-trips
	m := &requestVoteRequest{Term: r.Term, Candidate: r.Candidate, LastLogIndex: r.LastLogIndex, LastLogTerm: r.LastLogTerm, LeadershipTransfer: r.LeadershipTransfer}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *requestVoteRequest) toRaft() (*raft.RequestVoteRequest, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the deprecated field is carried so that every field round-trips
	return &raft.RequestVoteRequest{RPCHeader: h, Term: m.Term, Candidate: nilIfEmpty(m.Candidate), LastLogIndex: m.LastLogIndex, LastLogTerm: m.LastLogTerm, LeadershipTransfer: m.LeadershipTransfer}, nil
}

type requestVoteResponse struct {
	ProtocolVersion uint64
	ID              []byte
	Addr            []byte
	Term            uint64
	Peers           []byte
	Granted         bool
}

func fromRequestVoteResponse(r *raft.RequestVoteResponse) (*requestVoteResponse, error) {
	m := &requestVoteResponse{Term: r.Term, Peers: r.Peers, Granted: r.Granted}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *requestVoteResponse) toRaft() (*raft.RequestVoteResponse, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.RequestVoteResponse{RPCHeader: h, Term: m.Term, Peers: nilIfEmpty(m.Peers), Granted: m.Granted}, nil
}

// --- RequestPreVote ---

type requestPreVoteRequest struct {
	ProtocolVersion uint64
	ID              []byte
	Addr            []byte
	Term            uint64
	LastLogIndex    uint64
	LastLogTerm     uint64
}

func fromRequestPreVoteRequest(r *raft.RequestPreVoteRequest) (*requestPreVoteRequest, error) {
	m := &requestPreVoteRequest{Term: r.Term, LastLogIndex: r.LastLogIndex, LastLogTerm: r.LastLogTerm}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *requestPreVoteRequest) toRaft() (*raft.RequestPreVoteRequest, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.RequestPreVoteRequest{RPCHeader: h, Term: m.Term, LastLogIndex: m.LastLogIndex, LastLogTerm: m.LastLogTerm}, nil
}

type requestPreVoteResponse struct {
	ProtocolVersion uint64
	ID              []byte
	Addr            []byte
	Term            uint64
	Granted         bool
}

func fromRequestPreVoteResponse(r *raft.RequestPreVoteResponse) (*requestPreVoteResponse, error) {
	m := &requestPreVoteResponse{Term: r.Term, Granted: r.Granted}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *requestPreVoteResponse) toRaft() (*raft.RequestPreVoteResponse, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.RequestPreVoteResponse{RPCHeader: h, Term: m.Term, Granted: m.Granted}, nil
}

// --- InstallSnapshot ---

type installSnapshotRequest struct {
	ProtocolVersion    uint64
	ID                 []byte
	Addr               []byte
	SnapshotVersion    uint64
	Term               uint64
	Leader             []byte
	LastLogIndex       uint64
	LastLogTerm        uint64
	Peers              []byte
	Configuration      []byte
	ConfigurationIndex uint64
	Size               uint64
	Snapshot           []byte
}

func fromInstallSnapshotRequest(r *raft.InstallSnapshotRequest, snapshot []byte) (*installSnapshotRequest, error) {
	m := &installSnapshotRequest{Term: r.Term, Leader: r.Leader, LastLogIndex: r.LastLogIndex, LastLogTerm: r.LastLogTerm, Peers: r.Peers, Configuration: r.Configuration, ConfigurationIndex: r.ConfigurationIndex, Snapshot: snapshot}
	var err error
	if m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader); err != nil {
		return nil, err
	}
	if m.SnapshotVersion, err = nonNegative("SnapshotVersion", int64(r.SnapshotVersion)); err != nil {
		return nil, err
	}
	if m.Size, err = nonNegative("Size", r.Size); err != nil {
		return nil, err
	}
	if m.Size != uint64(len(snapshot)) {
		return nil, fmt.Errorf("snapshot Size %d does not match %d snapshot bytes", r.Size, len(snapshot))
	}
	return m, nil
}

func (m *installSnapshotRequest) toRaft() (*raft.InstallSnapshotRequest, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	sv, err := toInt("SnapshotVersion", m.SnapshotVersion)
	if err != nil {
		return nil, err
	}
	if m.Size > math.MaxInt64 {
		return nil, fmt.Errorf("snapshot Size %d is negative as an int64", m.Size)
	}
	if m.Size != uint64(len(m.Snapshot)) {
		return nil, fmt.Errorf("snapshot Size %d does not match %d snapshot bytes", m.Size, len(m.Snapshot))
	}
	return &raft.InstallSnapshotRequest{
		RPCHeader: h, SnapshotVersion: raft.SnapshotVersion(sv), Term: m.Term, Leader: nilIfEmpty(m.Leader),
		LastLogIndex: m.LastLogIndex, LastLogTerm: m.LastLogTerm, Peers: nilIfEmpty(m.Peers),
		Configuration: nilIfEmpty(m.Configuration), ConfigurationIndex: m.ConfigurationIndex, Size: int64(m.Size),
	}, nil
}

type installSnapshotResponse struct {
	ProtocolVersion uint64
	ID              []byte
	Addr            []byte
	Term            uint64
	Success         bool
}

func fromInstallSnapshotResponse(r *raft.InstallSnapshotResponse) (*installSnapshotResponse, error) {
	m := &installSnapshotResponse{Term: r.Term, Success: r.Success}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *installSnapshotResponse) toRaft() (*raft.InstallSnapshotResponse, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.InstallSnapshotResponse{RPCHeader: h, Term: m.Term, Success: m.Success}, nil
}

// --- TimeoutNow ---

type timeoutNowRequest header

func fromTimeoutNowRequest(r *raft.TimeoutNowRequest) (*timeoutNowRequest, error) {
	m := &timeoutNowRequest{}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *timeoutNowRequest) toRaft() (*raft.TimeoutNowRequest, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.TimeoutNowRequest{RPCHeader: h}, nil
}

type timeoutNowResponse header

func fromTimeoutNowResponse(r *raft.TimeoutNowResponse) (*timeoutNowResponse, error) {
	m := &timeoutNowResponse{}
	var err error
	m.ProtocolVersion, m.ID, m.Addr, err = fromHeader(r.RPCHeader)
	return m, err
}

func (m *timeoutNowResponse) toRaft() (*raft.TimeoutNowResponse, error) {
	h, err := toHeader(m.ProtocolVersion, m.ID, m.Addr)
	if err != nil {
		return nil, err
	}
	return &raft.TimeoutNowResponse{RPCHeader: h}, nil
}
