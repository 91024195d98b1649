package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi"
	"github.com/switchboard-sim/switchboard/scenarios"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/accounts"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/library/libstore"
	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/storage/pgjournal"
	"github.com/switchboard-sim/switchboard/web/storage/sqlitejournal"
	"github.com/switchboard-sim/switchboard/web/studio"
	"github.com/switchboard-sim/switchboard/web/xapisend"
)

// Timeouts of the HTTP server.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second // a SIGTERM'd server exits within about this long
)

// envPrefix starts the environment variable twin of every serve flag: --addr is
// SWITCHBOARD_ADDR, --max-calls is SWITCHBOARD_MAX_CALLS.
const envPrefix = "SWITCHBOARD_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// serveGCPercent is Go's garbage-collection target for serve unless GOGC is set: a
// collection starts once the heap has grown by 70% of what the last one left live (Go's
// default, 100, lets it double). A live call keeps about 8 KiB of live heap, and the
// resident memory the process keeps follows the heap's peaks, so the headroom counts per
// call: at 19,000 calls 20.1–20.4 KiB per call at 70 against 24.7–25.1 KiB at 100. At 50
// it was no smaller and the collector's CPU, on a saturated machine, made admission
// control refuse up to 0.15% of new calls (docs/performance.md, "Where a turn's time
// goes"). GOGC in the environment wins.
const serveGCPercent = 70

func cmdServe(env *cliEnv, args []string) int {
	fs := newFlags(env, "serve", "", "Serve the browser client and live calls. With no flags: the shipped scenarios, on\nhttp://127.0.0.1:8080/. Every flag can also be set by its environment variable\n(shown in brackets); a flag on the command line wins. SIGINT or SIGTERM stops the\nserver gracefully: connected trainees are told to reconnect (websocket close 1001).\nGo's garbage collector runs at GOGC=70 (less memory per call) unless GOGC is set.")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on, host:port (port 0 picks a free one) [SWITCHBOARD_ADDR]")
	dir := fs.String("scenarios", "", "the scenario folder trainees play and the studio edits (default: DATA/scenarios,\nfilled with the shipped library on first start) [SWITCHBOARD_SCENARIOS]")
	origins := fs.String("origins", "", "comma-separated origins (scheme://host[:port]) allowed to start calls and connect;\nempty means the server's own host [SWITCHBOARD_ORIGINS]")
	coach := fs.Bool("coach", false, "coach mode by default: show rule feedback during the call [SWITCHBOARD_COACH]")
	maxCalls := fs.Int("max-calls", 0, fmt.Sprintf("most live calls at once; 0: as many as the open-file limit holds, at most %d\n(one file per call; the server keeps up to 256) [SWITCHBOARD_MAX_CALLS]", defaultMaxCalls))
	level := fs.String("log-level", "info", "log level: debug, info, warn or error [SWITCHBOARD_LOG_LEVEL]")
	pprofOn := fs.Bool("pprof", false, "serve Go's profiler at /debug/pprof/ (operators only: it exposes internals; keep the port private) [SWITCHBOARD_PPROF]")
	data := fs.String("data", defaultDataDir, "folder for the call journal, revisions and access secrets (created if missing; with\n--database only the scenario folder's mirror) [SWITCHBOARD_DATA]")
	database := fs.String("database", "", "share PostgreSQL with other instances: postgres://user:password@host:port/dbname\n(default: SQLite in DATA/"+journalFile+"). It then holds the call journal, accounts, the\nscenario library and its revisions (mirrored into the scenario folder; a save on one\ninstance reaches the others within a second), the studio's secrets and sessions; prefer\nthe environment variable, which keeps the password out of the process list [SWITCHBOARD_DATABASE]")
	leaseTTL := fs.Duration("lease-ttl", live.DefaultLeaseTTL, "with --database: how long an instance's hold on its calls lasts without renewal (renewed\nevery third of it); a killed instance's calls are adopted by the others after about this long, and\neach instance looks for such calls every third of it [SWITCHBOARD_LEASE_TTL]")
	advertise := fs.String("advertise-url", "", "with --database: the URL the other instances reach this one at, http://host:port (they\nforward trainees' and supervisors' websockets to the instance that runs the call); default:\nthe listen address, with 127.0.0.1 for 0.0.0.0 — which only works on one host, so set it when\nthe instances run on different hosts [SWITCHBOARD_ADVERTISE_URL]")
	baseURL := fs.String("base-url", "", "the server's public URL, naming activities and accounts in xAPI statements\n(default "+xapi.DefaultHomePage+") [SWITCHBOARD_BASE_URL]")
	lrsEndpoint := fs.String("lrs-endpoint", "", "send xAPI statements of finished calls to this LRS (e.g. https://lrs.example.org/xapi)\n[SWITCHBOARD_LRS_ENDPOINT]")
	lrsUser := fs.String("lrs-user", "", "LRS basic-auth user [SWITCHBOARD_LRS_USER]")
	lrsPassword := fs.String("lrs-password", "", "LRS basic-auth password; prefer the environment variable [SWITCHBOARD_LRS_PASSWORD]")
	designerSecret := fs.String("designer-secret", "", "the studio's designer secret (default: generated into DATA/access.json on first start;\nwith --database, generated once into the database and shared by every instance; a secret\ngiven here is stored there for all); prefer the environment variable [SWITCHBOARD_DESIGNER_SECRET]")
	supervisorSecret := fs.String("supervisor-secret", "", "the studio's supervisor secret (look, not change; kept like the designer's); prefer the\nenvironment variable [SWITCHBOARD_SUPERVISOR_SECRET]")
	anonymous := fs.Bool("anonymous", true, "allow calls without an account (a typed name, as a single user); --anonymous=false for a team\ndeployment where trainees sign in (docs/tracks.md) [SWITCHBOARD_ANONYMOUS]")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if err := applyEnv(fs, env); err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(env.stderr, "switchboard serve: unexpected argument %q (use --scenarios DIR for a folder)\n", fs.Arg(0))
		return 2
	}
	if *maxCalls < 0 {
		fmt.Fprintf(env.stderr, "switchboard serve: --max-calls %d: want 0 (as many as the open-file limit holds) or a number of calls\n", *maxCalls)
		return 2
	}
	if *advertise != "" {
		if _, err := peers.ParseURL(*advertise); err != nil {
			fmt.Fprintf(env.stderr, "switchboard serve: --advertise-url %v\n", err)
			return 2
		}
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: --log-level %q: want debug, info, warn or error\n", *level)
		return 2
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: lvl}))
	if env.stderr == io.Writer(os.Stderr) {
		// The packages that log on their own (the journals' writers) then log in the same
		// format, at the same --log-level. Not when a test runs serve in-process: the
		// default logger is the whole process's.
		slog.SetDefault(log)
	}
	if os.Getenv("GOGC") == "" { // the runtime's own setting, not env's: it read it at start
		debug.SetGCPercent(serveGCPercent)
	}
	limit, known := openFileLimit()
	calls, warning, note := maxCallsFor(*maxCalls, limit, known)
	switch {
	case warning != "":
		log.Warn(warning, "open_file_limit", limit, "max_calls", calls)
	case note != "":
		log.Info(note, "open_file_limit", limit, "max_calls", calls)
	}
	*maxCalls = calls

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, where, err := openStore(ctx, *database, *data)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
		if errors.Is(err, errBadDatabase) || errors.Is(err, pgjournal.ErrBadURL) {
			return 2
		}
		return 1
	}
	defer db.Close()
	// With PostgreSQL, what every instance must agree on lives there too: the scenario
	// library (mirrored into this instance's folder), the studio's secrets and sessions.
	pg, _ := db.(*pgjournal.DB)
	instance := instanceName()
	var shared libstore.Store
	if pg != nil {
		shared = pg
	}
	lib, err := openLibrary(*dir, *data, log, shared, instance)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
		return 1
	}
	scs := lib.Published()
	override := access.Secrets{Designer: *designerSecret, Supervisor: *supervisorSecret}
	var secrets access.Secrets
	var created bool
	if pg != nil {
		secrets, created, err = access.LoadSharedSecrets(ctx, pg, override)
	} else {
		secrets, created, err = access.LoadSecrets(*data, override)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: studio access: %v\n", err)
		return 2
	}
	switch {
	case created && pg != nil:
		log.Info("studio: created access secrets, shared by every instance on the database", "setting", access.DesignerSecretKey)
	case created:
		log.Info("studio: created access secrets", "file", filepath.Join(*data, access.SecretsFile))
	}
	var allowed []string
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			allowed = append(allowed, o)
		}
	}
	var onFinish func(string)
	if *lrsEndpoint != "" {
		sender, err := xapisend.New(xapisend.Config{Endpoint: *lrsEndpoint, User: *lrsUser, Password: *lrsPassword,
			HomePage: *baseURL, Journal: db, Outbox: db, Logger: log})
		if err != nil {
			fmt.Fprintf(env.stderr, "switchboard serve: --lrs-endpoint: %v\n", err)
			return 2
		}
		onFinish = sender.Notify
		go sender.Run(ctx)
		log.Info("reporting finished calls to an LRS", "endpoint", *lrsEndpoint)
	}
	var own *live.Ownership
	if *database != "" {
		if *leaseTTL < minLeaseTTL {
			fmt.Fprintf(env.stderr, "switchboard serve: --lease-ttl %v: want at least %v\n", *leaseTTL, minLeaseTTL)
			return 2
		}
		own = &live.Ownership{Instance: instance, TTL: *leaseTTL}
		log.Info("call ownership: this instance owns its calls through leases in the database", "instance", own.Instance, "lease_ttl", own.TTL)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
		return 1
	}
	defer ln.Close() // when serve returns before serving; Serve closes it otherwise
	var pe *peers.Peers
	if own != nil {
		ps, ok := db.(peerStore)
		if !ok {
			fmt.Fprintf(env.stderr, "switchboard serve: the journal (%T) keeps no registry of instances\n", db)
			return 1
		}
		if pe, err = startPeers(ctx, ps, own, *advertise, ln.Addr(), log); err != nil {
			fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
			return 1
		}
	} else if *advertise != "" {
		log.Warn("--advertise-url is only used with --database (several instances): ignored")
	}
	srv, err := api.New(api.Options{Scenarios: scs, Origins: allowed, Coach: *coach, MaxCalls: *maxCalls, Logger: log, Journal: db,
		HomePage: *baseURL, OnFinish: onFinish, Ownership: own, Peers: pe})
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
		return 2
	}
	go pe.Run(ctx)
	go srv.KeepLeases(ctx)
	go srv.AdoptOrphans(ctx) // calls of instances that died or drained, even if nobody reconnects to them
	go lib.Watch(ctx)
	sopts := studio.Options{Library: lib, Calls: srv, Journal: db, Secrets: secrets, Logger: log, BaseURL: *baseURL}
	if pg != nil {
		sopts.Sessions = pg // a supervisor signed in on one instance is signed in on all
	}
	st, err := studio.New(sopts)
	if err != nil {
		fmt.Fprintf(env.stderr, "switchboard serve: %v\n", err)
		return 1
	}
	db.SetCommitObserver(srv.ObserveCommit)
	if l, ok := db.(interface {
		SetLogCommitObserver(func(writes int, took time.Duration))
	}); ok { // SQLite: the acknowledgement log's commits, which inputs wait for
		l.SetLogCommitObserver(srv.ObserveLogCommit)
	}
	acc := newAccounts(db, lib, secrets, *anonymous, *baseURL, log)
	handler := st.Mount(acc.Mount(srv.Handler()))
	if *pprofOn {
		handler = withPprof(handler)
		log.Warn("profiler on at /debug/pprof/ (--pprof)")
	}
	// Requests that claim to come from a peer instance must carry the peers' token (also
	// without peers: then they are refused).
	handler = pe.Guard(handler)
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	hs.RegisterOnShutdown(st.StopStreams) // an open floor board must not hold the shutdown
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	// Open calls come back in the background, in batches, while the server already serves:
	// a trainee who reconnects first has their call recovered on the spot.
	go func() {
		recovered, err := srv.Recover(ctx)
		if err != nil {
			log.Error("recovering open calls", "err", err, "open_calls_recovered", recovered)
			return
		}
		log.Info("journal", "at", where, "open_calls_recovered", recovered)
	}()
	fmt.Fprintf(env.stdout, "Switchboard is ready on http://%s/ (%d scenarios). Press Ctrl+C to stop.\n", ln.Addr(), len(scs))
	// The link with the secret is printed once, when the secret was just generated; later
	// starts say where it is (logs are often kept and shared).
	switch {
	case created && *designerSecret == "":
		fmt.Fprintf(env.stdout, "Designers' studio: http://%s/studio/?key=%s\n", ln.Addr(), url.QueryEscape(secrets.Designer))
	case *designerSecret != "":
		fmt.Fprintf(env.stdout, "Designers' studio: http://%s/studio/ (sign in with the designer secret you set: --designer-secret or %s)\n", ln.Addr(), envName("designer-secret"))
	case pg != nil:
		fmt.Fprintf(env.stdout, "Designers' studio: http://%s/studio/ (sign in with the designer secret shared by the instances: the database's settings, key %s)\n", ln.Addr(), access.DesignerSecretKey)
	default:
		fmt.Fprintf(env.stdout, "Designers' studio: http://%s/studio/ (sign in with the designer secret in %s)\n", ln.Addr(), filepath.Join(*data, access.SecretsFile))
	}
	log.Info("serving", "addr", ln.Addr().String(), "scenarios", len(scs), "coach", *coach)

	select {
	case err := <-served:
		log.Error("server failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("stopping: closing live calls")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	code := 0
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("stopping calls", "err", err)
		code = 1
	}
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("stopping the HTTP server", "err", err)
		code = 1
	}
	// Draining: the other instances take this one's calls over as soon as their trainees
	// reconnect, instead of after the leases expire.
	if n, err := srv.ReleaseLeases(sctx); err != nil {
		log.Error("releasing call leases", "err", err, "released", n)
	} else if n > 0 {
		log.Info("released call leases", "calls", n)
	}
	if err := pe.Leave(sctx); err != nil {
		log.Error("leaving the instances' registry", "err", err)
	}
	log.Info("stopped")
	return code
}

// peerStore is what the peers need of the database: the registry of instances and the
// shared settings (web/storage/pgjournal).
type peerStore interface {
	peers.Registry
	Setting(ctx context.Context, key string, create func() (string, error)) (string, error)
}

var _ peerStore = (*pgjournal.DB)(nil)

// startPeers sets this instance up to reach the others sharing the database and to be
// reached by them: the peers' token (created once in the database's settings, never
// logged), the advertised URL (advertise, or one made from the listen address), and its
// row in the registry of instances.
func startPeers(ctx context.Context, db peerStore, own *live.Ownership, advertise string, addr net.Addr, log *slog.Logger) (*peers.Peers, error) {
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	token, err := db.Setting(tctx, peers.TokenSetting, peers.NewToken)
	if err != nil {
		return nil, fmt.Errorf("the peers' token: %w", err)
	}
	if advertise == "" {
		advertise = defaultAdvertise(addr)
	}
	p, err := peers.New(peers.Config{Registry: db, Name: own.Instance, URL: advertise, Token: token, TTL: own.TTL, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := p.Register(tctx); err != nil {
		return nil, err
	}
	log.Info("peers: other instances reach this one at its advertised URL", "instance", p.Name(), "advertise_url", p.URL())
	// Two live instances advertising one URL (the default on several hosts) cannot reach
	// each other: what is forwarded to one reaches the other, which answers 503.
	if others, err := p.Others(tctx); err == nil {
		for _, o := range others {
			if o.URL == p.URL() {
				log.Warn("peers: another live instance advertises the same URL: set --advertise-url to an address the other instances reach this one at",
					"advertise_url", p.URL(), "other_instance", o.Name)
			}
		}
	}
	return p, nil
}

// defaultAdvertise is the advertised URL made from the listen address: http://host:port,
// with 127.0.0.1 for an unspecified address (0.0.0.0, ::), which works only when every
// instance runs on this host.
func defaultAdvertise(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() { // Go listens on both IPv4 and IPv6 there
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// defaultDataDir is where serve keeps its journal when --data is not given: a folder in
// the working directory.
const defaultDataDir = "switchboard-data"

// journalFile is the journal's file name inside the data folder.
const journalFile = "switchboard.db"

// store is what serve needs of a journal adapter; web/storage/sqlitejournal and web/storage/pgjournal
// both provide it.
type store interface {
	journal.Journal
	journal.Outbox
	journal.Notes
	accounts.Store
	SetCommitObserver(func(writes int, took time.Duration))
}

var (
	_ store = (*sqlitejournal.DB)(nil)
	_ store = (*pgjournal.DB)(nil)
)

// minLeaseTTL is the shortest --lease-ttl: renewals every third of it must be able to
// reach the database in time.
const minLeaseTTL = time.Second

// instanceName names this instance among those sharing a database: host, process id and
// a random suffix (a restarted process is a new owner).
func instanceName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "switchboard"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// errBadDatabase: --database is neither empty nor a PostgreSQL URL.
var errBadDatabase = errors.New("want a PostgreSQL URL, postgres://user:password@host:port/dbname (or nothing, for SQLite in the data folder)")

// openStore opens the journal: in PostgreSQL when database is a postgres:// URL, else the
// SQLite file in the data folder. where says which, for the log (never with a password).
func openStore(ctx context.Context, database, data string) (store, string, error) {
	if database == "" {
		db, err := openJournal(ctx, data)
		if err != nil {
			return nil, "", err
		}
		return db, db.Path(), nil
	}
	if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
		return nil, "", fmt.Errorf("--database %s: %w", pgjournal.Redact(database), errBadDatabase)
	}
	db, err := pgjournal.Open(ctx, database)
	if err != nil {
		return nil, "", fmt.Errorf("--database: %w", err)
	}
	return db, db.URL(), nil
}

// openJournal opens (creating it if needed) the SQLite journal in the data folder.
func openJournal(ctx context.Context, dir string) (*sqlitejournal.DB, error) {
	if dir == "" {
		return nil, errors.New("--data: empty folder name")
	}
	db, err := sqlitejournal.Open(ctx, filepath.Join(dir, journalFile))
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	return db, nil
}

// applyEnv sets every flag not given on the command line from its environment variable.
func applyEnv(fs *flag.FlagSet, env *cliEnv) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		if v, ok := lookupEnv(env, name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

func lookupEnv(env *cliEnv, name string) (string, bool) {
	v := env.getenv(name)
	return v, v != ""
}

// openLibrary opens the scenario folder: dir, or DATA/scenarios (filled with the shipped
// library on first start). Scenarios with errors are drafts, logged with their diagnostics.
// With shared (PostgreSQL), the folder mirrors the library every instance shares, and
// revisions live in the database.
func openLibrary(dir, data string, log *slog.Logger, shared libstore.Store, instance string) (*library.Library, error) {
	flagName := "--scenarios"
	if dir == "" {
		flagName = "--data"
		dir = filepath.Join(data, scenariosFolder)
		copied, err := library.Seed(dir, scenarios.FS, scenarios.Root)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		if copied {
			log.Info("copied the shipped scenarios into the scenario folder", "folder", dir)
		}
	}
	var lib *library.Library
	var err error
	if shared != nil {
		lib, err = library.OpenShared(dir, shared, instance, log)
	} else {
		lib, err = library.Open(dir, filepath.Join(data, revisionsFolder), log)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	for _, e := range lib.Entries() {
		for _, d := range e.Diags {
			if d.Severity == engine.SeverityWarning {
				log.Warn("scenario warning", "diagnostic", d.String())
			}
		}
		if e.Errors > 0 {
			log.Error("scenario has errors (open it in the studio, or run switchboard lint)", "file", e.Path,
				"offered", e.Published != nil, "errors", e.Diags.Errors().Error())
		}
	}
	if len(lib.Entries()) == 0 {
		log.Warn("the scenario folder has no scenarios: create one in the studio", "folder", dir)
	}
	return lib, nil
}

// Folders inside the data folder.
const (
	scenariosFolder = "scenarios" // the default scenario folder
	revisionsFolder = "revisions" // replaced versions of scenario files
)

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// withPprof serves net/http/pprof's handlers under /debug/pprof/ beside next (--pprof).
func withPprof(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
