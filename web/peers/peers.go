// Package peers lets several Switchboard instances sharing one PostgreSQL database reach
// each other: a registry of the live instances and the URL each one advertises (Registry,
// kept in the database), the token that authenticates one instance to another (shared
// through the database's settings), and the forwarding of a request to the instance that
// owns a live call (Peers.Forward, a reverse proxy that also carries websockets) and of
// the floor board's question to every live instance (Peers.GetAll).
//
// Rules: a request forwarded by a peer carries HeaderToken (checked in constant time by
// Guard) and HeaderForwarded; a forwarded request is never forwarded again, so two
// instances that disagree about a call's owner cannot bounce a request between them.
// Without a database (SQLite) there are no peers: a nil *Peers forwards nothing and
// knows no other instance. See docs/deploy.md ("Forwarding to the live owner").
package peers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-sim/switchboard/web/httpjson"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Headers of a request forwarded by a peer.
const (
	// HeaderToken carries the peers' shared token (never logged).
	HeaderToken = "X-Switchboard-Peer-Token"
	// HeaderForwarded names the instance that forwarded the request; a request that has it
	// is never forwarded again.
	HeaderForwarded = "X-Switchboard-Forwarded"
	// HeaderRole carries the studio role (supervisor, designer) of the person whose
	// request a peer forwards, for the owner's role check.
	HeaderRole = "X-Switchboard-Peer-Role"
)

// Limits and timings.
const (
	// TokenSetting is the settings key of the peers' token.
	TokenSetting = "peer-token"
	// tokenBytes is the token's entropy (base64url-encoded).
	tokenBytes = 32
	// StaleAfter is how many heartbeat periods (TTL/3 each) an instance may miss before
	// the others ignore it and its row is deleted: 9 periods, three lease TTLs.
	StaleAfter = 9
	// GetTimeout bounds one peer's answer to GetAll (the floor board asks every second).
	GetTimeout = 500 * time.Millisecond
	// dialTimeout bounds connecting to a peer.
	dialTimeout = 2 * time.Second
	// headerTimeout bounds a forwarded request's wait for the owner's response headers.
	headerTimeout = 10 * time.Second
	// TCP keep-alive of the connections to peers: probes after 15 s idle, every 5 s, 3
	// unanswered ones close the connection (and a websocket forwarded over it).
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
	// maxGetBytes bounds a peer's answer to GetAll.
	maxGetBytes = 8 << 20
)

// Instance is a live instance as the registry knows it.
type Instance struct {
	Name    string    `json:"name"`    // the instance's name (the owner of its call leases)
	URL     string    `json:"url"`     // the base URL other instances reach it at (--advertise-url)
	Started time.Time `json:"started"` // when it registered
	Seen    time.Time `json:"seen"`    // its last heartbeat
}

// Registry keeps the live instances (web/storage/pgjournal implements it in PostgreSQL).
type Registry interface {
	// Heartbeat records that inst lives (inserting it, or updating its URL and Seen) and
	// deletes the instances last seen before forgetBefore.
	Heartbeat(ctx context.Context, inst Instance, forgetBefore time.Time) error
	// RemoveInstance deletes name's row (an instance that stops).
	RemoveInstance(ctx context.Context, name string) error
	// Instances lists the instances seen at or after seenSince, by name.
	Instances(ctx context.Context, seenSince time.Time) ([]Instance, error)
	// CallOwner returns the instance that holds callID's live lease at now, when it was
	// seen at or after seenSince; false when the call has no live lease or its owner is
	// not (or no longer) registered.
	CallOwner(ctx context.Context, callID string, now, seenSince time.Time) (Instance, bool, error)
}

// NewToken makes a random peers' token (the create function of the settings value).
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("peers: making a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Config configures Peers.
type Config struct {
	Registry Registry
	// Name is this instance's name (the owner of its call leases).
	Name string
	// URL is the base URL other instances reach this one at: scheme://host:port.
	URL string
	// Token is the shared token (at least 16 characters).
	Token string
	// TTL is the call leases' time to live: heartbeats every TTL/3.
	TTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
	// Transport reaches the peers (nil: a transport with short dial and header timeouts).
	Transport http.RoundTripper
}

// Peers is this instance's view of the others. A nil *Peers (one instance, SQLite) has no
// peers: it forwards nothing. Its methods are safe for concurrent use.
type Peers struct {
	reg       Registry
	self      Instance
	token     []byte
	ttl       time.Duration
	now       func() time.Time
	log       *slog.Logger
	transport http.RoundTripper
	client    *http.Client
}

// ParseURL checks an advertised URL: http or https, a host, no path (beyond "/"), query
// or fragment. It returns it without a trailing slash.
func ParseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: want http(s)://host:port, with no path", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// New makes Peers.
func New(c Config) (*Peers, error) {
	switch {
	case c.Registry == nil:
		return nil, errors.New("peers: no registry")
	case c.Name == "":
		return nil, errors.New("peers: empty instance name")
	case len(c.Token) < 16:
		return nil, errors.New("peers: the token is too short")
	case c.TTL <= 0:
		return nil, errors.New("peers: the lease TTL must be positive")
	}
	u, err := ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("peers: advertised URL %w", err)
	}
	p := &Peers{reg: c.Registry, token: []byte(c.Token), ttl: c.TTL, now: c.Now, log: c.Logger, transport: c.Transport}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.transport == nil {
		p.transport = &http.Transport{
			Proxy: nil, // peers are reached directly, never through an outbound proxy
			// TCP keep-alive probes find an owner whose host vanished within about 30 s
			// (a forwarded websocket has no deadline of its own here).
			DialContext: (&net.Dialer{Timeout: dialTimeout, KeepAliveConfig: net.KeepAliveConfig{
				Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount}}).DialContext,
			ResponseHeaderTimeout: headerTimeout,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
		}
	}
	p.client = &http.Client{Transport: p.transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p.self = Instance{Name: c.Name, URL: u, Started: p.now().UTC()}
	return p, nil
}

// Name is this instance's name ("" for nil).
func (p *Peers) Name() string {
	if p == nil {
		return ""
	}
	return p.self.Name
}

// URL is this instance's advertised URL ("" for nil).
func (p *Peers) URL() string {
	if p == nil {
		return ""
	}
	return p.self.URL
}

// period is the heartbeat period: a third of the lease TTL.
func (p *Peers) period() time.Duration { return p.ttl / 3 }

// seenSince is the oldest heartbeat of an instance still counted as live.
func (p *Peers) seenSince() time.Time { return p.now().Add(-StaleAfter * p.period()) }

// Register records this instance in the registry (at start, before serving forwarded
// requests matters).
func (p *Peers) Register(ctx context.Context) error {
	if p == nil {
		return nil
	}
	inst := p.self
	inst.Seen = p.now().UTC()
	if err := p.reg.Heartbeat(ctx, inst, p.seenSince()); err != nil {
		return fmt.Errorf("peers: registering %s: %w", p.self.Name, err)
	}
	return nil
}

// Run heartbeats every TTL/3 until ctx ends (a failure is logged and retried at the next
// tick). Call Leave after draining.
func (p *Peers) Run(ctx context.Context) {
	if p == nil {
		return
	}
	t := time.NewTicker(p.period())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hctx, cancel := context.WithTimeout(ctx, p.period())
		err := p.Register(hctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			p.log.Error("peers: heartbeat", "instance", p.self.Name, "err", err)
		}
	}
}

// Leave removes this instance from the registry (after draining, at SIGTERM).
func (p *Peers) Leave(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if err := p.reg.RemoveInstance(ctx, p.self.Name); err != nil {
		return fmt.Errorf("peers: leaving: %w", err)
	}
	return nil
}

// Others lists the other live instances, by name.
func (p *Peers) Others(ctx context.Context) ([]Instance, error) {
	if p == nil {
		return nil, nil
	}
	all, err := p.reg.Instances(ctx, p.seenSince())
	if err != nil {
		return nil, fmt.Errorf("peers: listing instances: %w", err)
	}
	return slices.DeleteFunc(all, func(i Instance) bool { return i.Name == p.self.Name }), nil
}

// ctxKey marks a request whose peer token Guard checked.
type ctxKey struct{}

// fromPeer is what Guard learnt of an authenticated peer's request.
type fromPeer struct {
	by   string // the forwarding instance
	role string // HeaderRole
}

// Guard checks the peers' token of every request that claims to come from a peer (it has
// HeaderToken or HeaderForwarded): a missing or wrong token is answered 401 unauthorized;
// a right one marks the request (Forwarded, Role). With a nil *Peers, a request that
// claims to come from a peer is refused the same way (this instance has none).
func (p *Peers) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, fwd := r.Header.Values(HeaderToken), r.Header.Get(HeaderForwarded)
		if len(tok) == 0 && fwd == "" {
			next.ServeHTTP(w, r)
			return
		}
		if p == nil || len(tok) != 1 || subtle.ConstantTimeCompare([]byte(tok[0]), p.token) != 1 || fwd == "" {
			httpjson.WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "a missing or wrong peer token")
			return
		}
		r.Header.Del(HeaderToken) // nobody further down needs it
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, fromPeer{by: fwd, role: r.Header.Get(HeaderRole)})))
	})
}

// Forwarded reports whether r was forwarded by an authenticated peer (Guard): it must not
// be forwarded again.
func Forwarded(r *http.Request) bool {
	_, ok := r.Context().Value(ctxKey{}).(fromPeer)
	return ok
}

// Role returns the studio role a peer forwarded r for ("" when r was not forwarded or
// carries none).
func Role(r *http.Request) string {
	f, _ := r.Context().Value(ctxKey{}).(fromPeer)
	return f.role
}

// Forward hands r to the live instance that owns call callID, through a reverse proxy
// that keeps the path, query, Host and Origin (the owner checks the call's token and the
// origin itself) and carries a websocket upgrade; role, when not empty, is the studio role
// the owner should grant (HeaderRole). When the request was forwarded already, the owner
// is unknown, is this instance, or cannot be reached, fallback answers instead.
func (p *Peers) Forward(w http.ResponseWriter, r *http.Request, callID, role string, fallback http.HandlerFunc) {
	if p == nil || Forwarded(r) {
		fallback(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
	owner, ok, err := p.reg.CallOwner(ctx, callID, p.now(), p.seenSince())
	cancel()
	switch {
	case err != nil:
		p.log.Warn("peers: looking up a call's owner", "call", callID, "err", err)
		fallback(w, r)
		return
	case !ok || owner.Name == p.self.Name:
		fallback(w, r)
		return
	}
	target, err := url.Parse(owner.URL)
	if err != nil {
		p.log.Warn("peers: an instance advertises a bad URL", "instance", owner.Name, "err", err)
		fallback(w, r)
		return
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath // SetURL joins paths; keep the original
			pr.Out.Host = pr.In.Host                                                // the owner's same-origin check sees the browser's host
			pr.SetXForwarded()
			pr.Out.Header.Del(HeaderToken)
			pr.Out.Header.Del(HeaderRole)
			pr.Out.Header.Set(HeaderToken, string(p.token))
			pr.Out.Header.Set(HeaderForwarded, p.self.Name)
			if role != "" {
				pr.Out.Header.Set(HeaderRole, role)
			}
		},
		Transport: p.transport,
		ErrorLog:  slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("peers: the owner of a call cannot be reached", "call", callID, "owner", owner.Name, "err", err)
			fallback(w, r)
		},
	}
	p.log.Debug("peers: forwarding", "call", callID, "owner", owner.Name, "path", r.URL.Path)
	rp.ServeHTTP(w, r)
}

// Reply is one instance's answer to GetAll.
type Reply struct {
	Instance Instance
	Status   int    // the HTTP status (0 when there was no answer)
	Body     []byte // the body (at most 8 MiB)
	Err      error  // no answer, or a body that could not be read
}

// GetAll asks every other live instance for pathQuery (a path with its query) at once,
// as this instance's peer, and waits for each at most GetTimeout; replies come in the
// order of the instances' names. An instance that does not answer in time has Err set. An
// instance that advertises this one's URL is skipped (misconfigured: the question would
// come back here).
func (p *Peers) GetAll(ctx context.Context, pathQuery string) ([]Reply, error) {
	others, err := p.Others(ctx)
	if err != nil {
		return nil, err
	}
	others = slices.DeleteFunc(others, func(i Instance) bool { return i.URL == p.self.URL })
	if len(others) == 0 {
		return nil, nil
	}
	out := make([]Reply, len(others))
	var wg sync.WaitGroup
	for i, inst := range others {
		out[i].Instance = inst
		wg.Go(func() { p.get(ctx, &out[i], pathQuery) })
	}
	wg.Wait()
	return out, nil
}

func (p *Peers) get(ctx context.Context, rep *Reply, pathQuery string) {
	ctx, cancel := context.WithTimeout(ctx, GetTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(rep.Instance.URL, "/")+pathQuery, nil)
	if err != nil {
		rep.Err = err
		return
	}
	req.Header.Set(HeaderToken, string(p.token))
	req.Header.Set(HeaderForwarded, p.self.Name)
	resp, err := p.client.Do(req)
	if err != nil {
		rep.Err = err
		return
	}
	defer resp.Body.Close()
	rep.Status = resp.StatusCode
	rep.Body, rep.Err = io.ReadAll(io.LimitReader(resp.Body, maxGetBytes))
}
