package app

import (
	"context"
	"fmt"
	"io"

	"github.com/lifelong-links/sct/internal/config"
)

// summariesCommand is "sct summaries check|rebuild": compare the summary
// buckets with a recount from the responses, or rebuild them from it. Run
// it with the server stopped when the store is embedded.
func summariesCommand(ctx context.Context, action string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := config.Load("sct summaries "+action, args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, s, stderr)
	if err != nil {
		return err
	}
	defer st.Close(context.WithoutCancel(ctx))
	switch action {
	case "check":
		diffs, err := st.CheckSummaries(ctx)
		if err != nil {
			return err
		}
		for _, d := range diffs {
			fmt.Fprintf(stdout, "differs: %s\n", d)
		}
		if len(diffs) > 0 {
			return fmt.Errorf("%d summary buckets differ from the responses; run: sct summaries rebuild", len(diffs))
		}
		fmt.Fprintln(stdout, "summaries agree with the responses")
	case "rebuild":
		n, err := st.RebuildSummaries(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt %d summary buckets from the responses\n", n)
	}
	return nil
}
