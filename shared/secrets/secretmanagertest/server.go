// Package secretmanagertest runs an in-process Secret Manager so tests can
// drive the real cloud.google.com/go/secretmanager client.
//
// A hand-written fake of our own Accessor interface would only prove that
// our code agrees with itself. Serving the real gRPC API on a loopback port
// exercises what production does: request encoding, status codes, the
// client's own retry policy, and payload checksums. It lives next to the
// package that uses Secret Manager so that any package's tests can start
// one.
package secretmanagertest

import (
	"context"
	"hash/crc32"
	"net"
	"sync"
	"testing"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Server serves AccessSecretVersion from a map of secret version names
// (projects/p/secrets/s/versions/latest) to payloads. Other methods answer
// Unimplemented. All methods are safe for concurrent use.
type Server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	// Addr is the host:port the server listens on.
	Addr string

	mu        sync.Mutex
	secrets   map[string]string
	calls     map[string]int
	total     int
	failures  []codes.Code
	corrupt   map[string]bool
	inFlight  int
	barrierN  int
	barrierCh chan struct{}
}

// Start serves secrets on a 127.0.0.1 port until the test ends.
func Start(t testing.TB, secrets map[string]string) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("secretmanagertest: listen: %v", err)
	}
	s := &Server{
		Addr:    lis.Addr().String(),
		secrets: make(map[string]string, len(secrets)),
		calls:   make(map[string]int),
		corrupt: make(map[string]bool),
	}
	for name, value := range secrets {
		s.secrets[name] = value
	}
	gs := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(gs, s)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis) // returns once Stop is called below
	}()
	t.Cleanup(func() {
		// Stop, not GracefulStop: a handler parked at a barrier must not keep
		// the test from ending.
		gs.Stop()
		<-served
	})
	return s
}

// ClientOptions point a Secret Manager client at s, without credentials or
// TLS.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// NewClient returns a real Secret Manager client talking to s. The caller
// closes it.
func (s *Server) NewClient(ctx context.Context) (*secretmanager.Client, error) {
	return secretmanager.NewClient(ctx, s.ClientOptions()...)
}

// SetSecret adds or replaces the payload of a secret version.
func (s *Server) SetSecret(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = value
}

// FailNext makes the next n AccessSecretVersion calls, whatever their name,
// fail with code. Calls to FailNext queue up.
func (s *Server) FailNext(n int, code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, code)
	}
}

// CorruptChecksum makes responses for name carry a data_crc32c that does not
// match the payload, as a damaged response would.
func (s *Server) CorruptChecksum(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[name] = true
}

// BlockUntilInFlight makes every AccessSecretVersion call wait until n calls
// are in progress at once, then lets them all through; later calls pass
// straight away. A call whose context ends first fails with
// DeadlineExceeded or Canceled, so a caller that fetches one secret at a
// time fails instead of hanging, as long as its context has a deadline.
func (s *Server) BlockUntilInFlight(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.barrierN = n
	s.barrierCh = make(chan struct{})
	if s.inFlight >= n {
		close(s.barrierCh)
	}
}

// Calls returns how many AccessSecretVersion calls s has received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// CallsFor returns how many AccessSecretVersion calls named name s has
// received.
func (s *Server) CallsFor(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// AccessSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	name := req.GetName()

	s.mu.Lock()
	s.total++
	s.calls[name]++
	s.inFlight++
	barrier := s.barrierCh
	if barrier != nil && s.inFlight >= s.barrierN {
		select {
		case <-barrier:
		default:
			close(barrier)
		}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	if barrier != nil {
		select {
		case <-barrier:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 {
		code := s.failures[0]
		s.failures = s.failures[1:]
		return nil, status.Errorf(code, "secretmanagertest: injected %s for %s", code, name)
	}
	value, ok := s.secrets[name]
	if !ok {
		// The real service's wording, which names the secret and nothing more.
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	data := []byte(value)
	sum := int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	if s.corrupt[name] {
		sum++
	}
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    name,
		Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &sum},
	}, nil
}
