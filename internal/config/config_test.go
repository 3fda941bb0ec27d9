package config_test

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lifelong-links/sct/internal/config"
)

func TestLoad_PruneInterval(t *testing.T) {
	tests := []struct {
		name    string
		env     string // SCT_PRUNE_INTERVAL
		args    []string
		want    time.Duration
		wantErr string // empty: loads
	}{
		{name: "defaults to an hour", want: time.Hour},
		{name: "comes from the environment", env: "30m", want: 30 * time.Minute},
		{name: "a flag beats the environment", env: "30m", args: []string{"--prune-interval", "2h"}, want: 2 * time.Hour},
		{name: "zero in the environment turns it off", env: "0", want: 0},
		{name: "zero as a flag turns it off", args: []string{"--prune-interval=0"}, want: 0},
		{name: "a minute is allowed", env: "1m", want: time.Minute},
		{name: "under a minute is refused", env: "30s", wantErr: "prune-interval: must be 0 (never) or at least a minute"},
		{name: "a negative interval is refused", args: []string{"--prune-interval", "-1h"}, wantErr: "prune-interval: must be 0"},
		{name: "an unreadable interval names the variable", env: "hourly", wantErr: "SCT_PRUNE_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SCT_PRUNE_INTERVAL": tt.env}
			s, err := config.Load("sct", tt.args, func(k string) string { return env[k] }, io.Discard, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.PruneInterval != tt.want {
				t.Errorf("prune interval = %v, want %v", s.PruneInterval, tt.want)
			}
		})
	}
}

func TestLogValue_ShowsPruneInterval(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "settings", config.Defaults())
	if !strings.Contains(buf.String(), "settings.prune_interval=1h0m0s") {
		t.Errorf("start-up log %q does not show the prune interval", buf.String())
	}
}
