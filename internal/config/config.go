// Package config holds the server's settings: defaults in one place, then
// SCT_ environment variables, then command-line flags (a flag wins).
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lifelong-links/sct/internal/webhook"
)

// Settings configure one server process.
type Settings struct {
	Addr            string        // listen address
	DataDir         string        // the embedded store lives here
	MongoDBURI      string        // empty: embedded store
	Database        string        // database name
	LogLevel        string        // debug, info, warn, error
	LogFormat       string        // text or json
	ShutdownTimeout time.Duration // how long in-flight requests get on stop
	// JWTKeys are the access-token keys, "kid=secret,...": the first signs,
	// all verify. Empty with the embedded store: generated once under DataDir.
	JWTKeys    string
	RefreshTTL time.Duration // how long a sign-in lasts unused
	// SignInLifetime is how long a sign-in lasts however often it is used.
	SignInLifetime time.Duration
	// PruneInterval is how often records of ended sign-ins, young-person
	// links and sign-in failures are deleted; 0: never.
	PruneInterval time.Duration
	// MaxInFlight caps the API requests served at once; more wait briefly,
	// then get 503.
	MaxInFlight int
	// TrustedProxies are the networks (CIDR) of proxies whose
	// X-Forwarded-For names the client; empty: the peer is the client.
	TrustedProxies string
	// PublicURL is the address people reach the server at, e.g.
	// https://sct.example.org: every link the server makes (young-person
	// links, their QR codes, calendar addresses) starts with it, whatever
	// the request's Host or X-Forwarded-* headers say. Empty: see
	// AllowedHosts.
	PublicURL string
	// AllowedHosts are the Host header values (host or host:port,
	// comma-separated) believed for links when PublicURL is empty, besides
	// the listen address itself (and localhost:<port> when it is loopback).
	AllowedHosts string
	// WebhookAllow names webhook receivers allowed although not on the
	// public internet (loopback, private and other special addresses are
	// refused otherwise): hosts (names or addresses) and CIDR ranges,
	// comma-separated. Plain http is taken only for these.
	WebhookAllow string
	// The administrator created on the first start on an empty store.
	BootstrapAdminEmail    string
	BootstrapAdminPassword string
}

// GCPercent is the garbage collector's target the server sets when the
// GOGC environment variable does not say one (the Go default is 100). The
// heap then grows to about three times what the server holds live before a
// collection, where Go's default would let it grow to twice. Measured at
// 100,000 SCTs, with 175 MB live: Go's default took resident memory after a
// run of submissions from 908 to 617 MiB, but collected twice as often, and
// each collection of that heap lasts 70-170 ms on two cores: the reads
// timed during one were slowed (a site's follow-ups 1.7 ms at the median
// and 3-5 ms at p95, against 1.3 and 1.5-1.8 ms). GOMEMLIMIT still caps the
// heap where memory is tight.
const GCPercent = 200

// Defaults returns the settings used when nothing else is said.
func Defaults() Settings {
	return Settings{
		Addr:            "127.0.0.1:8080",
		DataDir:         "./data",
		Database:        "sct",
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 15 * time.Second,
		RefreshTTL:      12 * time.Hour,
		SignInLifetime:  7 * 24 * time.Hour,
		PruneInterval:   time.Hour,
		MaxInFlight:     256,
	}
}

// setting ties one field to its flag and environment variable.
type setting struct {
	flag, env, usage string
	str              *string
	dur              *time.Duration
	num              *int
	secret           bool // may also come from <env>_FILE
	envOnly          bool // no flag: secrets that must not show in a process list
}

func (s *Settings) table() []setting {
	return []setting{
		{flag: "addr", env: "SCT_ADDR", usage: "listen address", str: &s.Addr},
		{flag: "data", env: "SCT_DATA_DIR", usage: "data directory (the embedded store lives here)", str: &s.DataDir},
		{flag: "mongodb-uri", env: "SCT_MONGODB_URI", usage: "MongoDB URI; empty runs the embedded store", str: &s.MongoDBURI, secret: true},
		{flag: "database", env: "SCT_DATABASE", usage: "database name", str: &s.Database},
		{flag: "log-level", env: "SCT_LOG_LEVEL", usage: "debug, info, warn or error", str: &s.LogLevel},
		{flag: "log-format", env: "SCT_LOG_FORMAT", usage: "text or json", str: &s.LogFormat},
		{flag: "shutdown-timeout", env: "SCT_SHUTDOWN_TIMEOUT", usage: "time in-flight requests get to finish on stop", dur: &s.ShutdownTimeout},
		{flag: "jwt-keys", env: "SCT_JWT_KEYS", usage: "access-token keys kid=secret,... (first signs); generated under the data directory when empty", str: &s.JWTKeys, secret: true},
		{flag: "refresh-ttl", env: "SCT_REFRESH_TTL", usage: "how long a sign-in lasts without use", dur: &s.RefreshTTL},
		{flag: "sign-in-lifetime", env: "SCT_SIGN_IN_LIFETIME", usage: "how long a sign-in lasts however often it is used", dur: &s.SignInLifetime},
		{flag: "prune-interval", env: "SCT_PRUNE_INTERVAL", usage: "how often ended sign-ins, links and failure counts are deleted; 0 never", dur: &s.PruneInterval},
		{flag: "trusted-proxies", env: "SCT_TRUSTED_PROXIES", usage: "CIDR ranges of proxies whose X-Forwarded-For is believed, comma-separated", str: &s.TrustedProxies},
		{flag: "public-url", env: "SCT_PUBLIC_URL", usage: "the address people use, e.g. https://sct.example.org; links the server makes start with it", str: &s.PublicURL},
		{flag: "allowed-hosts", env: "SCT_ALLOWED_HOSTS", usage: "without a public URL: Host header values (host or host:port) believed for links besides the listen address, comma-separated", str: &s.AllowedHosts},
		{flag: "webhook-allow", env: "SCT_WEBHOOK_ALLOW", usage: "webhook receivers allowed on loopback, private or other non-public addresses (and over plain http): hosts and CIDR ranges, comma-separated", str: &s.WebhookAllow},
		{flag: "max-inflight", env: "SCT_MAX_INFLIGHT", usage: "API requests served at once; more wait 200ms, then get 503", num: &s.MaxInFlight},
		{env: "SCT_BOOTSTRAP_ADMIN_EMAIL", str: &s.BootstrapAdminEmail, envOnly: true},
		{env: "SCT_BOOTSTRAP_ADMIN_PASSWORD", str: &s.BootstrapAdminPassword, secret: true, envOnly: true},
	}
}

// Load reads settings from the environment (getenv) and then args. It returns
// flag.ErrHelp after printing usage to out when asked for help. extra, if
// set, adds a subcommand's own flags.
func Load(name string, args []string, getenv func(string) string, out io.Writer, extra func(*flag.FlagSet)) (Settings, error) {
	s := Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	if extra != nil {
		extra(fs)
	}
	for _, st := range s.table() {
		if err := st.fromEnv(getenv); err != nil {
			return s, err
		}
		if st.envOnly {
			continue
		}
		usage := fmt.Sprintf("%s (env %s)", st.usage, st.env)
		switch {
		case st.dur != nil:
			fs.DurationVar(st.dur, st.flag, *st.dur, usage)
		case st.num != nil:
			fs.IntVar(st.num, st.flag, *st.num, usage)
		default:
			fs.StringVar(st.str, st.flag, *st.str, usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return s, s.Validate()
}

func (st setting) fromEnv(getenv func(string) string) error {
	v := getenv(st.env)
	if st.secret {
		if file := getenv(st.env + "_FILE"); file != "" {
			if v != "" {
				return fmt.Errorf("set %s or %s_FILE, not both", st.env, st.env)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("%s_FILE: %w", st.env, err)
			}
			v = strings.TrimSpace(string(b))
		}
	}
	if v == "" {
		return nil
	}
	if st.dur != nil {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", st.env, err)
		}
		*st.dur = d
		return nil
	}
	if st.num != nil {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s: %w", st.env, err)
		}
		*st.num = n
		return nil
	}
	*st.str = v
	return nil
}

// Validate reports every setting that cannot work.
func (s Settings) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", s.Addr, err))
	}
	if s.MongoDBURI == "" && s.DataDir == "" {
		errs = append(errs, errors.New("data: a data directory is needed for the embedded store"))
	}
	if s.MongoDBURI != "" && !strings.HasPrefix(s.MongoDBURI, "mongodb://") && !strings.HasPrefix(s.MongoDBURI, "mongodb+srv://") {
		errs = append(errs, errors.New("mongodb-uri: must start with mongodb:// or mongodb+srv://"))
	}
	if s.Database == "" || strings.ContainsAny(s.Database, `/\. "$`) {
		errs = append(errs, fmt.Errorf("database %q: must be a plain name", s.Database))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", s.LogLevel))
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", s.LogFormat))
	}
	if s.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout: must be above zero"))
	}
	if _, err := s.ProxyNets(); err != nil {
		errs = append(errs, err)
	}
	if _, err := s.PublicBase(); err != nil {
		errs = append(errs, err)
	}
	if _, err := s.HostAllowList(); err != nil {
		errs = append(errs, err)
	}
	if _, err := s.WebhookAllowList(); err != nil {
		errs = append(errs, err)
	}
	if s.MaxInFlight < 1 || s.MaxInFlight > 100000 {
		errs = append(errs, errors.New("max-inflight: must be 1 to 100000"))
	}
	if s.RefreshTTL < time.Minute {
		errs = append(errs, errors.New("refresh-ttl: must be at least a minute"))
	}
	if s.SignInLifetime < s.RefreshTTL {
		errs = append(errs, errors.New("sign-in-lifetime: must be at least refresh-ttl"))
	}
	if s.PruneInterval != 0 && s.PruneInterval < time.Minute {
		errs = append(errs, errors.New("prune-interval: must be 0 (never) or at least a minute"))
	}
	if !s.Embedded() && s.JWTKeys == "" {
		errs = append(errs, errors.New("jwt-keys: required with MongoDB, so that every server instance verifies the same tokens"))
	}
	if (s.BootstrapAdminEmail == "") != (s.BootstrapAdminPassword == "") {
		errs = append(errs, errors.New("SCT_BOOTSTRAP_ADMIN_EMAIL and SCT_BOOTSTRAP_ADMIN_PASSWORD: set both or neither"))
	}
	return errors.Join(errs...)
}

// Embedded reports whether the server runs its own store.
func (s Settings) Embedded() bool { return s.MongoDBURI == "" }

// Level returns the log level.
func (s Settings) Level() slog.Level {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(s.LogLevel))
	return lvl
}

// LogValue is the settings with secrets redacted, for the start-up log.
func (s Settings) LogValue() slog.Value {
	store := "embedded"
	if !s.Embedded() {
		store = redactURI(s.MongoDBURI)
	}
	return slog.GroupValue(
		slog.String("addr", s.Addr),
		slog.String("data", s.DataDir),
		slog.String("store", store),
		slog.String("database", s.Database),
		slog.String("log_level", s.LogLevel),
		slog.Duration("shutdown_timeout", s.ShutdownTimeout),
		slog.Bool("jwt_keys_set", s.JWTKeys != ""),
		slog.Duration("refresh_ttl", s.RefreshTTL),
		slog.Duration("sign_in_lifetime", s.SignInLifetime),
		slog.Duration("prune_interval", s.PruneInterval),
		slog.String("public_url", s.PublicURL),
		slog.String("allowed_hosts", s.AllowedHosts),
		slog.String("webhook_allow", s.WebhookAllow),
		slog.String("bootstrap_admin", s.BootstrapAdminEmail),
	)
}

func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}

// ProxyNets parses TrustedProxies.
func (s Settings) ProxyNets() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s.TrustedProxies, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("trusted-proxies: %q is not a CIDR range", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// PublicBase parses PublicURL: nil when it is empty, else the scheme and
// host alone (a trailing "/" dropped). The server answers at the root of its
// host, so a path is refused, as are a query, a fragment and a user name.
func (s Settings) PublicBase() (*url.URL, error) {
	if s.PublicURL == "" {
		return nil, nil
	}
	fail := func(why string) (*url.URL, error) {
		return nil, fmt.Errorf("public-url %q: %s (e.g. https://sct.example.org)", s.PublicURL, why)
	}
	u, err := url.Parse(s.PublicURL)
	switch {
	case err != nil:
		return fail("not a URL")
	case u.Scheme != "http" && u.Scheme != "https", u.Opaque != "":
		return fail("must start with https:// or http://")
	case u.User != nil:
		return fail("must not hold a user name or password")
	case u.Hostname() == "":
		return fail("must name a host")
	case u.Path != "" && u.Path != "/":
		return fail("must not have a path: the server answers at the root of its host")
	case u.RawQuery != "" || u.ForceQuery:
		return fail("must not have a query")
	case u.Fragment != "" || strings.Contains(s.PublicURL, "#"):
		return fail("must not have a fragment")
	}
	if !validPort(u) {
		return fail("the port must be a number from 1 to 65535")
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

// HostAllowList parses AllowedHosts: each a host or host:port (an IPv6
// address in brackets), lower-cased.
func (s Settings) HostAllowList() ([]string, error) {
	var out []string
	for _, part := range strings.Split(s.AllowedHosts, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse("http://" + part)
		if err != nil || u.Host != part || u.Hostname() == "" || !validPort(u) {
			return nil, fmt.Errorf("allowed-hosts: %q is not a host or host:port (e.g. sct.example.org or sct.example.org:8443)", part)
		}
		out = append(out, strings.ToLower(part))
	}
	return out, nil
}

// WebhookAllowList parses WebhookAllow.
func (s Settings) WebhookAllowList() (webhook.Guard, error) {
	g, err := webhook.ParseAllow(s.WebhookAllow)
	if err != nil {
		return webhook.Guard{}, fmt.Errorf("webhook-allow: %w", err)
	}
	return g, nil
}

// validPort reports whether u has no port or one from 1 to 65535.
func validPort(u *url.URL) bool {
	if strings.HasSuffix(u.Host, ":") {
		return false
	}
	p := u.Port()
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
