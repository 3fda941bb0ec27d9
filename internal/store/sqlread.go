package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unique"
)

// sqlReader answers, on the embedded store, the queries FerretDB v1 would
// answer by reading and decoding a whole collection: it reads FerretDB's
// SQLite tables directly, through indexes on the JSON fields it filters
// and sorts by (made here, beside FerretDB's own, as indexIDLookups does).
// Each row is FerretDB's stored form of a document ("sjson": the
// document's JSON with a "$s" key describing its types; strings and
// numbers as they are, dates as milliseconds), of which only plain fields
// are read. Writes still go through FerretDB, which commits each in
// SQLite (WAL) before answering, so a read here sees every acknowledged
// write. FerretDB's version is pinned (go.mod); TestSQLReader_* check the
// stored form and that SQLite's plans use the indexes.
type sqlReader struct {
	db     *sql.DB
	mu     sync.Mutex
	tables map[string]string // collection → FerretDB's table
}

func openSQLReader(dir, database string) (*sqlReader, error) {
	// The busy timeout FerretDB itself uses: it may be writing meanwhile.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, database+".sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	return &sqlReader{db: db, tables: map[string]string{}}, nil
}

func (r *sqlReader) close() error { return r.db.Close() }

// table is the SQLite table of a collection.
func (r *sqlReader) table(ctx context.Context, coll string) (string, error) {
	r.mu.Lock()
	t, ok := r.tables[coll]
	r.mu.Unlock()
	if ok {
		return t, nil
	}
	err := r.db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&t)
	if err != nil {
		return "", fmt.Errorf("embedded store: the table of %s: %w", coll, err)
	}
	r.mu.Lock()
	r.tables[coll] = t
	r.mu.Unlock()
	return t, nil
}

// field is the SQL expression of a top-level field's value.
func field(name string) string { return `_ferretdb_sjson->>'$.` + name + `'` }

// derivedExpr is a response's derived inputs, wherever its version kept
// them (see responseDoc.derived).
var derivedExpr = "coalesce(" + field("derived") + ", " + field("inputs") + ", " + field("practice") + ")"

// factsFields are the fields of a response's facts (responseFacts), in
// order: all that the lists of responses, the slots and the tables' inputs
// read of a response, but its derived inputs.
var factsFields = []string{"_id", "site", "child_id", "updated_at", "form", "status", "group", "version", "timepoint", "wave",
	"completed_on", "mode", "revision", "slot"}

// factsExpr is a response's facts as one JSON array: the copy the embedded
// store writes in the document ("q", see Store.stored), or, for a document
// written before it did, the same array made of its fields. The array is
// made text by concatenating it to the empty string: SQLite reads no
// expression from an index that may give a JSON subtype, as json_array
// does, and would parse every stored document instead.
var factsExpr = func() string {
	parts := make([]string, len(factsFields))
	for i, f := range factsFields {
		parts[i] = field(f)
	}
	return "coalesce(" + field("q") + ", '' || json_array(" + strings.Join(parts, ", ") + "))"
}()

// respCols are the columns of the index of responses that lists a site's
// (q_resp): the site and the child (what lists seek and sort by), then the
// facts.
var respCols = []string{field("site"), field("child_id"), factsExpr}

// timeCols are the columns of the index of responses in the order they
// were written (q_time), which holds all that is read of every response at
// a start (the facts and the derived inputs) and what changed since a time.
var timeCols = []string{field("updated_at"), factsExpr, derivedExpr}

// sqlIndexes are the indexes sqlReader's queries use, by collection: a name
// and the expressions, in order. Every index is kept on every write, and
// each expression in one costs the write a look into the document's JSON
// (SQLite compares the whole document with the one it parsed last, byte by
// byte, about 4 µs a look): so a response's facts are one expression, not
// fourteen, computed once, in Go, and the two indexes of responses have
// six expressions between them. SQLite reads what these indexes hold from
// them alone, where reading the rows would parse each stored document's
// JSON, answers and all (2 s per 100,000 responses).
var sqlIndexes = map[string][]struct {
	name  string
	exprs []string
}{
	collResponses: {{"q_resp", respCols}, {"q_time", timeCols}},
	collChildren:  {{"q_site", []string{field("site"), field("_id")}}},
	collAudit:     {{"q_at", []string{field("at"), field("_id")}}},
}

// ensureIndexes makes the indexes sqlReader's queries use, and drops those
// an earlier version made that no query uses now (each costs every write).
func (r *sqlReader) ensureIndexes(ctx context.Context) error {
	for coll, idx := range sqlIndexes {
		t, err := r.table(ctx, coll)
		if err != nil {
			return err
		}
		// An index is kept only as it is made now: one of the same name
		// made of other expressions (by an earlier version) would go
		// unused by the queries here, and is made again.
		want := map[string]string{}
		for _, ix := range idx {
			want[t+"_"+ix.name] = fmt.Sprintf(`CREATE INDEX %q ON %q (%s)`, t+"_"+ix.name, t, strings.Join(ix.exprs, ", "))
		}
		rows, err := r.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name LIKE ?`, t, t+"_q_%")
		if err != nil {
			return fmt.Errorf("embedded store: list indexes of %s: %w", coll, err)
		}
		var stale []string
		for rows.Next() {
			var name, made string
			if err := rows.Scan(&name, &made); err != nil {
				rows.Close()
				return err
			}
			if want[name] != made {
				stale = append(stale, name)
			}
		}
		rows.Close()
		for _, name := range stale {
			if _, err := r.db.ExecContext(ctx, fmt.Sprintf(`DROP INDEX IF EXISTS %q`, name)); err != nil {
				return fmt.Errorf("embedded store: drop index %s: %w", name, err)
			}
		}
		for _, ix := range idx {
			q := strings.Replace(want[t+"_"+ix.name], "CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
			if _, err := r.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("embedded store: index %s of %s: %w", ix.name, coll, err)
			}
		}
	}
	return nil
}

// responseFacts is what the indexes of responses hold of a response but
// its derived inputs: factsFields, as a JSON array.
type responseFacts struct {
	ID, Site, ChildID                       string
	UpdatedAt                               int64 // milliseconds, as FerretDB stores a date
	Form, Status, Group, Version, Timepoint string
	Wave                                    int
	CompletedOn, Mode                       string
	Revision                                int
	Slot                                    string
}

// into is where each of factsFields is read to.
func (f *responseFacts) into() [14]any {
	return [...]any{&f.ID, &f.Site, &f.ChildID, &f.UpdatedAt, &f.Form, &f.Status, &f.Group, &f.Version, &f.Timepoint, &f.Wave,
		&f.CompletedOn, &f.Mode, &f.Revision, &f.Slot}
}

// factsOf is a document's facts as the embedded store writes them.
func factsOf(d responseDoc) string {
	b, _ := json.Marshal([]any{d.ID, d.Site, d.ChildID, d.UpdatedAt.UnixMilli(), d.Form, d.Status, d.Group, d.Version,
		d.Timepoint, d.Wave, d.CompletedOn, d.Mode, d.Revision, d.Slot})
	return string(b)
}

// parseFacts reads facts written by factsOf or made by factsExpr (where an
// absent field is null). Facts are identifiers, dates and whole numbers,
// read directly; any other text (an escape in a string, say) is read by
// encoding/json, which says what is wrong with it.
func parseFacts(text string) (responseFacts, error) {
	if f, ok := parsePlainFacts(text); ok {
		return f, nil
	}
	var f responseFacts
	into := f.into()
	if err := json.Unmarshal([]byte(text), &into); err != nil {
		return f, fmt.Errorf("a stored response's facts: %w", err)
	}
	return f, nil
}

// parsePlainFacts reads a facts array of strings without escapes, whole
// numbers and nulls, in factsFields' order; ok is false for anything else.
// A start reads every response's facts, and encoding/json took a quarter
// of it.
func parsePlainFacts(text string) (f responseFacts, ok bool) {
	if len(text) < 2 || text[0] != '[' || text[len(text)-1] != ']' {
		return f, false
	}
	rest := text[1 : len(text)-1]
	into := f.into()
	for i, to := range into {
		var value string
		if i < len(into)-1 {
			value, rest, ok = strings.Cut(rest, ",")
			if !ok {
				return f, false
			}
		} else {
			value = rest
		}
		if value == "null" {
			continue
		}
		switch to := to.(type) {
		case *string:
			if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' || strings.ContainsAny(value[1:len(value)-1], `"\`) {
				return f, false
			}
			*to = value[1 : len(value)-1]
		case *int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return f, false
			}
			*to = n
		case *int64:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return f, false
			}
			*to = n
		}
	}
	// The ids are copied out of the text, which is not kept; the rest
	// (forms, sites, dates: a few hundred values between every response)
	// share one copy each. The slot is read by no one (the mirror keeps a
	// slot by its parts): it is left in the text, not copied for every
	// response at a start.
	f.ID, f.ChildID = strings.Clone(f.ID), strings.Clone(f.ChildID)
	for _, s := range []*string{&f.Site, &f.Form, &f.Status, &f.Group, &f.Version, &f.Timepoint, &f.CompletedOn, &f.Mode} {
		*s = shared(*s)
	}
	return f, true
}

// selects reports whether a filter selects a submitted response with these
// facts.
func (f Filter) selects(fa responseFacts) bool {
	for _, kv := range [...]struct{ want, got string }{
		{f.Form, fa.Form}, {f.Timepoint, fa.Timepoint}, {f.Site, fa.Site}, {f.Group, fa.Group}, {f.Version, fa.Version},
	} {
		if kv.want != "" && kv.want != kv.got {
			return false
		}
	}
	return fa.Status == StatusSubmitted && (f.Wave == 0 || f.Wave == fa.Wave) &&
		(f.From == "" || fa.CompletedOn >= f.From) && (f.To == "" || fa.CompletedOn <= f.To) &&
		(f.ChangedSince.IsZero() || fa.UpdatedAt >= f.ChangedSince.UnixMilli())
}

// scan reads cols of the rows of a collection that meet cond, split by
// row into parts read at once (as many as the machine has cores, for a
// read of a whole collection: each row's JSON is parsed for its fields),
// and calls fn with each row's values from one goroutine.
func (r *sqlReader) scan(ctx context.Context, coll, index string, cols []string, cond string, args []any, parts int, fn func([]sql.NullString) error) error {
	t, err := r.table(ctx, coll)
	if err != nil {
		return err
	}
	from := fmt.Sprintf("%q", t)
	if index != "" {
		from += fmt.Sprintf(" INDEXED BY %q", t+"_"+index)
	}
	q := fmt.Sprintf(`SELECT %s FROM %s WHERE %s`, strings.Join(cols, ", "), from, cond)
	ranges := [][2]int64{{0, 0}} // all
	if parts > 1 {
		var last sql.NullInt64
		if err := r.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT max(rowid) FROM %q`, t)).Scan(&last); err != nil {
			return err
		}
		step := last.Int64/int64(parts) + 1
		ranges = ranges[:0]
		for lo := int64(0); lo <= last.Int64; lo += step {
			ranges = append(ranges, [2]int64{lo, lo + step})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows := make(chan []sql.NullString, 256)
	errs := make(chan error, len(ranges))
	var wg sync.WaitGroup
	for _, rg := range ranges {
		wg.Go(func() {
			query, qargs := q, args
			if rg != [2]int64{0, 0} {
				query += ` AND rowid >= ? AND rowid < ?`
				qargs = append(append([]any{}, args...), rg[0], rg[1])
			}
			errs <- r.read(ctx, query, qargs, len(cols), rows)
		})
	}
	go func() { wg.Wait(); close(rows) }()
	var fnErr error
	for row := range rows {
		if fnErr == nil {
			if fnErr = fn(row); fnErr != nil {
				cancel()
			}
		}
	}
	if fnErr != nil {
		return fnErr
	}
	for range ranges {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func (r *sqlReader) read(ctx context.Context, q string, args []any, n int, out chan<- []sql.NullString) error {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]sql.NullString, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		select {
		case out <- vals:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return rows.Err()
}

// eachDerived is EachDerived on the embedded store: it reads the index
// q_time alone, on every core, and filters in Go (a filter names at most a
// form and a few facts, and every read of it is of most of the index).
func (r *sqlReader) eachDerived(ctx context.Context, f Filter, parts int, fn func(Derived) error) error {
	cond, args := derivedExpr+" IS NOT NULL", []any(nil)
	if !f.ChangedSince.IsZero() {
		cond, args = cond+" AND "+field("updated_at")+" >= ?", append(args, f.ChangedSince.UnixMilli())
	}
	err := r.scan(ctx, collResponses, "q_time", timeCols, cond, args, parts, func(v []sql.NullString) error {
		fa, err := parseFacts(v[1].String)
		if err != nil {
			return err
		}
		if !f.selects(fa) {
			return nil
		}
		return fn(Derived{Form: fa.Form, Site: fa.Site, Group: fa.Group, Timepoint: fa.Timepoint, Version: fa.Version,
			Wave: fa.Wave, CompletedOn: fa.CompletedOn, ChildID: fa.ChildID, ID: fa.ID, Inputs: json.RawMessage(v[2].String)})
	})
	if err != nil {
		return classify(fmt.Errorf("read derived inputs: %w", err))
	}
	return nil
}

// millis is a date as FerretDB stores it: milliseconds since 1970.
type millis int64

func (m millis) time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// childRow is a child as FerretDB stores it.
type childRow struct {
	ID            string `json:"_id"`
	Site          string `json:"site"`
	Group         string `json:"group"`
	AgeBand       string `json:"age_band"`
	StartedOn     string `json:"started_on"`
	CreatedAt     millis `json:"created_at"`
	UpdatedAt     millis `json:"updated_at"`
	Erasing       bool   `json:"erasing"`
	Participation *struct {
		Eligible               *bool   `json:"eligible"`
		Participating          *bool   `json:"participating"`
		StartedOn              string  `json:"started_on"`
		ReasonNotParticipating *int    `json:"reason_not_participating"`
		CeasedOn               string  `json:"ceased_on"`
		ReasonCeased           *int    `json:"reason_ceased"`
		PlanCompleted          *int    `json:"plan_completed"`
		FGCCompleted           *int    `json:"fgc_completed"`
		ReviewFGCCompleted     *int    `json:"review_fgc_completed"`
		Pauses                 []Pause `json:"pauses"`
		UpdatedAt              millis  `json:"updated_at"`
	} `json:"participation"`
}

// child is the row as a Child. Its codes and dates are shared with every
// child's equal ones (the embedded store's mirror holds every child).
func (c childRow) child() Child {
	out := Child{ID: c.ID, Site: shared(c.Site), Group: shared(c.Group), AgeBand: shared(c.AgeBand), StartedOn: shared(c.StartedOn),
		CreatedAt: c.CreatedAt.time(), Erasing: c.Erasing}
	if c.UpdatedAt != 0 {
		out.UpdatedAt = c.UpdatedAt.time()
	}
	if p := c.Participation; p != nil {
		out.Participation = &Participation{Eligible: p.Eligible, Participating: p.Participating, StartedOn: shared(p.StartedOn),
			ReasonNotParticipating: p.ReasonNotParticipating, CeasedOn: shared(p.CeasedOn), ReasonCeased: p.ReasonCeased,
			PlanCompleted: p.PlanCompleted, FGCCompleted: p.FGCCompleted, ReviewFGCCompleted: p.ReviewFGCCompleted,
			Pauses: p.Pauses, UpdatedAt: p.UpdatedAt.time()}
	}
	return out
}

// shared is s, its memory shared with every equal string made shared.
func shared(s string) string { return unique.Make(s).Value() }

// children reads every child.
func (r *sqlReader) children(ctx context.Context, parts int, fn func(Child)) error {
	return r.scan(ctx, collChildren, "", []string{"_ferretdb_sjson"}, "1", nil, parts, func(v []sql.NullString) error {
		var c childRow
		if err := json.Unmarshal([]byte(v[0].String), &c); err != nil {
			return fmt.Errorf("a stored child: %w", err)
		}
		fn(c.child())
		return nil
	})
}

// slots reads every response's id and, for a submitted one, the slot it
// holds and when it was completed, from the index q_time alone (what a
// start reads next, from the pages the page cache holds).
func (r *sqlReader) slots(ctx context.Context, parts int, fn func(responseFacts)) error {
	return r.scan(ctx, collResponses, "q_time", []string{factsExpr}, "1", nil, parts, func(v []sql.NullString) error {
		fa, err := parseFacts(v[0].String)
		if err != nil {
			return err
		}
		fn(fa)
		return nil
	})
}

// auditRow is an audit entry as FerretDB stores it.
type auditRow struct {
	ID        string `json:"_id"`
	At        millis `json:"at"`
	Actor     string `json:"actor"`
	Role      string `json:"role"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	Site      string `json:"site"`
	RequestID string `json:"request_id"`
	Remote    string `json:"remote"`
	Detail    string `json:"detail"`
}

// audit reads a page of the audit trail (and one more entry), walking the
// index on (at, _id) from the newest or from the cursor.
func (r *sqlReader) audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	t, err := r.table(ctx, collAudit)
	if err != nil {
		return nil, err
	}
	conds, args := []string{"1"}, []any{}
	for _, kv := range []struct{ k, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}, {"site", f.Site}} {
		if kv.v != "" {
			conds, args = append(conds, field(kv.k)+" = ?"), append(args, kv.v)
		}
	}
	if !f.From.IsZero() {
		conds, args = append(conds, field("at")+" >= ?"), append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		conds, args = append(conds, field("at")+" <= ?"), append(args, f.To.UnixMilli())
	}
	if b := f.Before; b != nil {
		conds = append(conds, "("+field("at")+", "+field("_id")+") < (?, ?)")
		args = append(args, b.At.UnixMilli(), b.ID)
	}
	q := fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE %s ORDER BY %s DESC, %s DESC LIMIT ?`,
		t, strings.Join(conds, " AND "), field("at"), field("_id"))
	rows, err := r.db.QueryContext(ctx, q, append(args, f.Limit+1)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := []AuditEntry{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, err
		}
		var a auditRow
		if err := json.Unmarshal([]byte(text), &a); err != nil {
			return nil, fmt.Errorf("a stored audit entry: %w", err)
		}
		entries = append(entries, AuditEntry{ID: a.ID, At: a.At.time(), Actor: a.Actor, Role: a.Role, Action: a.Action,
			Target: a.Target, Site: a.Site, RequestID: a.RequestID, Remote: a.Remote, Detail: a.Detail})
	}
	return entries, rows.Err()
}

// childrenPageQuery reads a page of a site's children from table t, in id
// order, through the index q_site. It orders by the id alone: the site is
// one, and ordered by the site as well SQLite 3.46 sorts every child of the
// site after the id (a page at 100,000 SCTs took 6 ms, growing with the
// site) rather than read the index in its order and stop at the page's end.
func childrenPageQuery(t string) string {
	return fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE %s = ? AND %s > ? ORDER BY %s LIMIT ?`,
		t, field("site"), field("_id"), field("_id"))
}

// childrenPage reads up to limit of a site's children after an ID, by the
// index on (site, _id).
func (r *sqlReader) childrenPage(ctx context.Context, site, after string, limit int) ([]Child, error) {
	t, err := r.table(ctx, collChildren)
	if err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, childrenPageQuery(t), site, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	children := []Child{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, err
		}
		var c childRow
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			return nil, fmt.Errorf("a stored child: %w", err)
		}
		children = append(children, c.child())
	}
	return children, rows.Err()
}

// responsesOf reads the responses of some of a site's children (no
// answers), from the index q_resp alone, in child then update order.
func (r *sqlReader) responsesOf(ctx context.Context, site string, childIDs []string) ([]ResponseInfo, error) {
	if len(childIDs) == 0 {
		return nil, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(childIDs)), ", ")
	args := []any{site}
	for _, id := range childIDs {
		args = append(args, id)
	}
	return r.infos(ctx, "q_resp", field("site")+" = ? AND "+field("child_id")+" IN ("+marks+")", args)
}

// responsesOfSite reads the responses of a site's children ("": every
// site's), from the index q_resp alone.
func (r *sqlReader) responsesOfSite(ctx context.Context, site string) ([]ResponseInfo, error) {
	if site == "" {
		return r.infos(ctx, "q_resp", "1", nil)
	}
	return r.infos(ctx, "q_resp", field("site")+" = ?", []any{site})
}

// infos reads the responses that meet cond from an index (q_resp or
// q_time), in site, child then update order.
func (r *sqlReader) infos(ctx context.Context, index, cond string, args []any) ([]ResponseInfo, error) {
	t, err := r.table(ctx, collResponses)
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf(`SELECT %s FROM %q INDEXED BY %q WHERE %s`, factsExpr, t, t+"_"+index, cond)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ResponseInfo{}
	for rows.Next() {
		var facts string
		if err := rows.Scan(&facts); err != nil {
			return nil, err
		}
		fa, err := parseFacts(facts)
		if err != nil {
			return nil, err
		}
		out = append(out, ResponseInfo{ID: fa.ID, ChildID: fa.ChildID, Site: fa.Site, Form: fa.Form, Version: fa.Version,
			Timepoint: fa.Timepoint, Wave: fa.Wave, CompletedOn: fa.CompletedOn, Mode: fa.Mode, Status: fa.Status,
			Revision: fa.Revision, UpdatedAt: millis(fa.UpdatedAt).time()})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b ResponseInfo) int {
		return cmp.Or(strings.Compare(a.Site, b.Site), strings.Compare(a.ChildID, b.ChildID), a.UpdatedAt.Compare(b.UpdatedAt))
	})
	return out, nil
}
