package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func openInternal(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DataDir: dir, Database: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func storedAnswers() map[string]any {
	return map[string]any{
		"nominees":   []any{map[string]any{"name": "Nan", "relationship": "grandparent"}},
		"key_people": []any{map[string]any{"nominee": int64(0), "reason": "important", "support": map[string]any{"trust": int64(4)}}},
		"adequacy":   map[string]any{"trust": int64(3)},
		"confident":  true,
		"score":      2.5,
	}
}

// Answers and inputs are stored as text, and read back as the same Go
// values, numbers included.
func TestStoredResponse_AnswersAndInputsAreTextAndReadBackTheSame(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, t.TempDir())
	defer s.Close(ctx)
	in := json.RawMessage(`{"nominees":1,"relationships":["grandparent"],"support":{"trust":[0,0,0,1]},"adequacy":{"trust":3}}`)
	r := Response{ID: "r1", Form: "sct", Version: "1", ChildID: "C1", Site: "A", Group: "comparison", Timepoint: "baseline", Wave: 1,
		CompletedOn: "2019-06-14", Mode: "paper", Status: StatusSubmitted, Revision: 1, BodyHash: "h", Answers: storedAnswers(),
		Derived: in}
	if err := s.InsertResponse(ctx, r); err != nil {
		t.Fatal(err)
	}
	var raw bson.Raw
	if err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "_id", Value: "r1"}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"answers", "derived"} {
		if got := raw.Lookup(field).Type; got != bson.TypeString {
			t.Errorf("%s is stored as %s, want a string", field, got)
		}
	}
	got, err := s.Response(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Answers, r.Answers) {
		t.Errorf("answers read back as %#v, want %#v", got.Answers, r.Answers)
	}
	if string(got.Derived) != string(in) {
		t.Errorf("derived inputs read back as %s, want %s", got.Derived, in)
	}
}

// A response written with answers and inputs as documents, as stored before
// they were text, still reads, its inputs as the same JSON.
func TestStoredResponse_DocumentsWrittenTheOldWayStillRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInternal(t, dir)
	old := bson.D{{Key: "_id", Value: "old"}, {Key: "form", Value: "sct"}, {Key: "version", Value: "1"}, {Key: "child_id", Value: "C9"},
		{Key: "site", Value: "A"}, {Key: "group", Value: "comparison"}, {Key: "timepoint", Value: "baseline"}, {Key: "wave", Value: 1},
		{Key: "completed_on", Value: "2019-06-14"}, {Key: "mode", Value: "paper"}, {Key: "status", Value: StatusSubmitted},
		{Key: "answers", Value: storedAnswers()}, {Key: "revision", Value: 1}, {Key: "body_hash", Value: "h"},
		{Key: "slot", Value: "sct|C9|baseline|1"},
		{Key: "inputs", Value: bson.D{{Key: "nominees", Value: 1}, {Key: "relationships", Value: bson.A{"grandparent"}}, {Key: "key_people", Value: 1},
			{Key: "support", Value: bson.D{{Key: "trust", Value: bson.A{0, 0, 0, 1}}}}, {Key: "let_down", Value: bson.A{0, 0, 0, 0}}}}}
	if _, err := s.wdb.Collection(collResponses).InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	s = openInternal(t, dir) // learns of the document as any start does
	defer s.Close(ctx)
	got, err := s.Response(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Answers, storedAnswers()) {
		t.Errorf("answers read back as %#v", got.Answers)
	}
	// The inputs, stored as a document, read as the same JSON a deriver
	// writes, and a reader of derived inputs finds them.
	var in map[string]any
	if err := json.Unmarshal(got.Derived, &in); err != nil {
		t.Fatalf("derived inputs %s: %v", got.Derived, err)
	}
	want := map[string]any{"nominees": 1.0, "relationships": []any{"grandparent"}, "key_people": 1.0,
		"support": map[string]any{"trust": []any{0.0, 0.0, 0.0, 1.0}}, "let_down": []any{0.0, 0.0, 0.0, 0.0}}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("inputs read back as %#v, want %#v", in, want)
	}
	n := 0
	if err := s.EachDerived(ctx, Filter{Form: "sct", Timepoint: "baseline"}, func(d Derived) error {
		n++
		var each map[string]any
		if err := json.Unmarshal(d.Inputs, &each); err != nil || !reflect.DeepEqual(each, want) {
			t.Errorf("EachDerived gives %s (%v), want %#v", d.Inputs, err, want)
		}
		return nil
	}); err != nil || n != 1 {
		t.Errorf("EachDerived: %d responses, %v; want the old one", n, err)
	}
}

// The embedded store keeps the unique indexes, which hold the rules, and
// drops the others an earlier version made, which FerretDB never reads.
func TestEnsureIndexes_EmbeddedKeepsUniqueIndexesOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInternal(t, dir)
	if _, err := s.wdb.Collection(collResponses).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "child_id", Value: 1}, {Key: "site", Value: 1}}, Options: options.Index().SetName("child_site")}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	s = openInternal(t, dir)
	defer s.Close(ctx)
	specs, err := s.db.Collection(collResponses).Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, spec := range specs {
		names = append(names, spec.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"_id_", "slot_unique"}) {
		t.Errorf("indexes on responses: %v; want _id_ and slot_unique", names)
	}
}

// FerretDB finds a document by _id through an index in every collection
// read by _id: SQLite's plan for FerretDB's own lookup expression names an
// index.
func TestEmbedded_LookupsByIDUseAnIndex(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, t.TempDir())
	defer s.Close(ctx)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.embed.dir, "test.sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := map[string]string{}
	rows, err := db.Query(`SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, table string
		if err := rows.Scan(&name, &table); err != nil {
			t.Fatal(err)
		}
		tables[name] = table
	}
	rows.Close()
	for _, coll := range readByID() {
		t.Run(coll, func(t *testing.T) {
			table, ok := tables[coll]
			if !ok {
				t.Fatalf("no table for %s", coll)
			}
			var id, parent, unused int
			var plan string
			err := db.QueryRow(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE %s = ?`, table, idExpression), `"x"`).
				Scan(&id, &parent, &unused, &plan)
			if err != nil || !strings.Contains(plan, "USING INDEX") {
				t.Errorf("plan %q (%v); want a search using an index", plan, err)
			}
		})
	}
}

// poolCleared is what the driver answers an operation that wanted a
// connection from a pool cleared by another operation's lost connection.
type poolCleared struct{}

func (poolCleared) Error() string {
	return "connection pool for 127.0.0.1:1 was cleared because another operation failed"
}
func (poolCleared) Retryable() bool { return true }

// What a server says when it cannot serve now (shutting down, an election)
// is "unavailable", as a lost connection is; a refusal of the request is not.
func TestClassify_ServerSaysNotNowIsUnavailable(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{name: "interrupted at shutdown", err: mongo.CommandError{Code: 11600, Message: "interrupted at shutdown"}, unavailable: true},
		{name: "not the primary", err: mongo.CommandError{Code: 10107, Message: "not primary"}, unavailable: true},
		{name: "write concern: primary stepped down", err: mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 189}}, unavailable: true},
		{name: "retryable write label", err: mongo.CommandError{Code: 1, Labels: []string{"RetryableWriteError"}}, unavailable: true},
		{name: "connection pool cleared", err: poolCleared{}, unavailable: true},
		{name: "duplicate key", err: mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000}}}},
		{name: "bad request", err: mongo.CommandError{Code: 2, Message: "bad value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(classify(fmt.Errorf("read: %w", tt.err)), ErrUnavailable); got != tt.unavailable {
				t.Errorf("unavailable = %v, want %v", got, tt.unavailable)
			}
		})
	}
}

// A first administrator claimed by a process that stopped before writing
// the account is made from the claim at the next look, and the claim then
// keeps no copy of the account (nor its password hash).
func TestFinishFirstAdmin_MakesTheClaimedAccount(t *testing.T) {
	s := openInternal(t, t.TempDir())
	defer s.Close(context.Background())
	ctx := context.Background()
	u := s.normalUser(User{ID: "4f0b6a0e-8c1d-4a57-9d59-1b1f3c2f6a11", Email: "First@Example.org", PasswordHash: "hash", Role: "admin"})
	if _, err := s.wdb.Collection(collSetup).InsertOne(ctx, setupClaim{ID: firstAdminClaim, UserID: u.ID, User: &u, At: u.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.FinishFirstAdmin(ctx)
	if err != nil || !claimed {
		t.Fatalf("FinishFirstAdmin = %v, %v; want claimed", claimed, err)
	}
	got, err := s.UserByEmail(ctx, "first@example.org")
	if err != nil || got.ID != u.ID || got.PasswordHash != "hash" || got.Role != "admin" {
		t.Fatalf("the claimed account: %+v, %v", got, err)
	}
	var c bson.M
	if err := s.db.Collection(collSetup).FindOne(ctx, bson.D{{Key: "_id", Value: firstAdminClaim}}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if _, kept := c["user"]; kept {
		t.Errorf("the claim still holds the account: %v", c)
	}
	// Again: nothing more is made.
	if _, err := s.FinishFirstAdmin(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("%d accounts, %v; want 1", n, err)
	}
}

// The embedded store writes a copy of a response's facts ("q") that its
// index of responses holds; a response written before it did has none, and
// the index makes the same facts of its fields. Both are listed, read for
// their inputs, found since a time and hold their slots after a restart
// alike, drafts and submitted responses.
func TestStoredResponse_WithAndWithoutItsFactsReadTheSame(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInternal(t, dir)
	if s.sqlr == nil {
		t.Skip("the facts are the embedded store's")
	}
	in := json.RawMessage(`{"nominees":1}`)
	at := time.Date(2020, 3, 4, 5, 6, 7, 0, time.UTC)
	submitted := func(id, child string) Response {
		return Response{ID: id, Form: "sct", Version: "1", ChildID: child, Site: "A", Group: "comparison", Timepoint: "follow_up",
			Wave: 2, CompletedOn: "2019-06-14", Mode: "paper", Status: StatusSubmitted, Revision: 3, BodyHash: "h",
			Answers: storedAnswers(), Derived: in, CreatedAt: at, UpdatedAt: at}
	}
	draft := func(id, child string) Response {
		return Response{ID: id, Form: "practice-summary", Version: "2", ChildID: child, Site: "A", Group: "lifelong_links",
			Mode: "online", Status: "draft", Answers: storedAnswers(), CreatedAt: at, UpdatedAt: at}
	}
	written := []Response{submitted("new-sub", "C1"), draft("new-draft", "C2")}
	before := []Response{submitted("old-sub", "C3"), draft("old-draft", "C4")}
	for _, r := range written {
		if err := s.InsertResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range before {
		if _, err := s.wdb.Collection(collResponses).InsertOne(ctx, toDoc(r)); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]bool{"new-sub": true, "new-draft": true, "old-sub": false, "old-draft": false} {
		var raw bson.Raw
		if err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.LookupErr("q"); (err == nil) != want {
			t.Errorf("%s: has facts %v, want %v", id, err == nil, want)
		}
	}
	_ = s.Close(ctx)
	s = openInternal(t, dir)
	defer s.Close(ctx)

	infoOf := func(r Response) ResponseInfo {
		return ResponseInfo{ID: r.ID, Form: r.Form, Version: r.Version, ChildID: r.ChildID, Timepoint: r.Timepoint, Wave: r.Wave,
			CompletedOn: r.CompletedOn, Mode: r.Mode, Status: r.Status, Revision: r.Revision, UpdatedAt: at, Site: r.Site}
	}
	var want []ResponseInfo
	for _, r := range append(slices.Clone(written), before...) {
		want = append(want, infoOf(r))
	}
	slices.SortFunc(want, func(a, b ResponseInfo) int { return strings.Compare(a.ChildID, b.ChildID) })
	listed, err := s.ResponsesOfSite(ctx, "A")
	if err != nil || !reflect.DeepEqual(listed, want) {
		t.Errorf("ResponsesOfSite = %+v (%v)\nwant %+v", listed, err, want)
	}
	changed, err := s.ResponsesChangedSince(ctx, at)
	if err != nil || !reflect.DeepEqual(changed, want) {
		t.Errorf("ResponsesChangedSince = %+v (%v)\nwant %+v", changed, err, want)
	}
	if later, err := s.ResponsesChangedSince(ctx, at.Add(time.Second)); err != nil || len(later) != 0 {
		t.Errorf("ResponsesChangedSince a second later = %+v (%v), want none", later, err)
	}
	var derived []Derived
	if err := s.EachDerived(ctx, Filter{Form: "sct", Wave: 2}, func(d Derived) error {
		derived = append(derived, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(derived, func(a, b Derived) int { return strings.Compare(a.ID, b.ID) })
	wantDerived := []Derived{}
	for _, id := range []string{"new-sub", "old-sub"} {
		r := submitted(id, map[string]string{"new-sub": "C1", "old-sub": "C3"}[id])
		wantDerived = append(wantDerived, Derived{ID: r.ID, ChildID: r.ChildID, Form: r.Form, Version: r.Version, Site: r.Site,
			Group: r.Group, Timepoint: r.Timepoint, CompletedOn: r.CompletedOn, Wave: r.Wave, Inputs: in})
	}
	if !reflect.DeepEqual(derived, wantDerived) {
		t.Errorf("EachDerived = %+v\nwant %+v", derived, wantDerived)
	}
	for _, r := range []Response{submitted("new-sub", "C1"), submitted("old-sub", "C3")} {
		id, completedOn, err := s.SlotHolder(ctx, r.ChildID, r.Form, r.Timepoint, r.Wave)
		if err != nil || id != r.ID || completedOn != r.CompletedOn {
			t.Errorf("slot of %s held by %q on %q (%v)", r.ID, id, completedOn, err)
		}
		if !s.knows(r.ID) {
			t.Errorf("%s is not known after the restart", r.ID)
		}
	}
	for _, id := range []string{"new-draft", "old-draft"} {
		if !s.knows(id) {
			t.Errorf("%s is not known after the restart", id)
		}
	}
}

// What the embedded store reads of every response at a start, and of a
// site's responses for its lists, SQLite reads from the indexes alone: the
// programs it makes for these reads call no function, where reading a
// stored document would call JSON functions on it, field by field.
func TestSQLReader_ResponsesAreReadFromTheirIndexesAlone(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, t.TempDir())
	defer s.Close(ctx)
	table, err := s.sqlr.table(ctx, collResponses)
	if err != nil {
		t.Fatal(err)
	}
	from := func(index string) string { return fmt.Sprintf("%q INDEXED BY %q", table, table+"_"+index) }
	for name, q := range map[string]string{
		"derived inputs": fmt.Sprintf(`SELECT %s FROM %s WHERE %s IS NOT NULL AND rowid >= 0 AND rowid < 100`,
			strings.Join(timeCols, ", "), from("q_time"), derivedExpr),
		"slots":         fmt.Sprintf(`SELECT %s FROM %s WHERE 1`, factsExpr, from("q_time")),
		"changed since": fmt.Sprintf(`SELECT %s FROM %s WHERE %s >= 0`, factsExpr, from("q_time"), field("updated_at")),
		"a site's": fmt.Sprintf(`SELECT %s FROM %s WHERE %s = 'A' AND %s IN ('C1', 'C2')`, factsExpr, from("q_resp"),
			field("site"), field("child_id")),
	} {
		rows, err := s.sqlr.db.QueryContext(ctx, "EXPLAIN "+q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var calls []string
		for rows.Next() {
			var addr, p1, p2, p3, p5 int
			var op string
			var p4, comment sql.NullString
			if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			if op == "Function" || op == "PureFunc" {
				calls = append(calls, p4.String)
			}
		}
		rows.Close()
		if len(calls) > 0 {
			t.Errorf("%s: the program calls %v; want each value read from the index", name, calls)
		}
	}
}

// An index an earlier version made, under a name no longer used or under
// a name still used but of other expressions, is gone after a start, and
// the index of that name is made as it is now.
func TestEnsureIndexes_RemakesIndexesMadeOtherwise(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInternal(t, dir)
	table, err := s.sqlr.table(ctx, collResponses)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`DROP INDEX %q`, table+"_q_resp"),
		fmt.Sprintf(`CREATE INDEX %q ON %q (%s)`, table+"_q_resp", table, field("site")),
		fmt.Sprintf(`CREATE INDEX %q ON %q (%s)`, table+"_q_info", table, field("site")),
	} {
		if _, err := s.sqlr.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close(ctx)
	s = openInternal(t, dir)
	defer s.Close(ctx)
	made := map[string]string{}
	rows, err := s.sqlr.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name LIKE ?`,
		table, table+"_q_%")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		made[strings.TrimPrefix(name, table+"_")] = q
	}
	rows.Close()
	want := map[string]string{
		"q_resp": fmt.Sprintf(`CREATE INDEX %q ON %q (%s)`, table+"_q_resp", table, strings.Join(respCols, ", ")),
		"q_time": fmt.Sprintf(`CREATE INDEX %q ON %q (%s)`, table+"_q_time", table, strings.Join(timeCols, ", ")),
	}
	if !reflect.DeepEqual(made, want) {
		t.Errorf("indexes of responses:\n%v\nwant\n%v", made, want)
	}
}

// Facts read directly read as encoding/json reads them, whatever the
// strings hold; what is not a facts array is an error.
func TestParseFacts_ReadsAsJSONDoes(t *testing.T) {
	viaJSON := func(text string) (responseFacts, error) {
		var f responseFacts
		into := f.into()
		return f, json.Unmarshal([]byte(text), &into)
	}
	texts := []string{
		factsOf(toDoc(Response{ID: "r1", Form: "sct", Version: "1", ChildID: "C1", Site: "A", Group: "comparison",
			Timepoint: "baseline", Wave: 1, CompletedOn: "2019-06-14", Mode: "paper", Status: StatusSubmitted, Revision: 2})),
		`["r2","A","C2",1733000000000,"practice-summary","draft","lifelong_links","2",null,0,null,"online",0,"draft:r2"]`,
		`["r3","A","C3",1733000000000,"sct","submitted","a,b","1","follow_up",2,"2020-01-01","pa\"per",1,"sct|C3|follow_up|2"]`,
		`["r4","A","C4",1733000000000,"s\u0063t","submitted","g","1","baseline",1,"2020-01-01","paper",1,"x"]`,
		`["r5","A","C5",1733000000000,"sct","submitted","g,\",\"h","1","baseline",1,"2020-01-01","paper",1,"x"]`,
		`["r6","A","C6",1.5,"sct","submitted","g","1","baseline",1,"2020-01-01","paper",1,"x"]`,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", ",", `"`, `\"`, `\\`, "1", "null", "[", "]", " "}
	for range 2000 {
		parts := make([]string, len(factsFields))
		for i := range parts {
			var b strings.Builder
			for range rng.IntN(4) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			if rng.IntN(3) > 0 {
				parts[i] = `"` + b.String() + `"`
			} else {
				parts[i] = b.String()
			}
		}
		texts = append(texts, "["+strings.Join(parts, ",")+"]")
	}
	good := 0
	for _, text := range texts {
		want, wantErr := viaJSON(text)
		got, err := parseFacts(text)
		if (err != nil) != (wantErr != nil) || (err == nil && got != want) {
			t.Errorf("%s: read as %+v (%v), encoding/json reads %+v (%v)", text, got, err, want, wantErr)
		}
		if err == nil {
			good++
		}
	}
	if good < 5 {
		t.Errorf("only %d of the texts were facts", good)
	}
	if f, err := parseFacts(texts[0]); err != nil || f.ID != "r1" || f.Revision != 2 || f.Wave != 1 || f.Slot != "sct|C1|baseline|1" {
		t.Errorf("facts written by factsOf read as %+v (%v)", f, err)
	}
}

// A response's facts are written with every write of it: a draft that is
// submitted, and then revised, is listed as it is now, and one written
// before facts were kept has them once it is written again.
func TestUpdateResponse_FactsFollowTheResponse(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, t.TempDir())
	defer s.Close(ctx)
	draft := Response{ID: "r1", Form: "sct", Version: "1", ChildID: "C1", Site: "A", Group: "comparison", Timepoint: "baseline",
		Wave: 1, Mode: "paper", Status: "draft", Answers: storedAnswers()}
	old := Response{ID: "r2", Form: "sct", Version: "1", ChildID: "C2", Site: "A", Group: "comparison", Timepoint: "baseline",
		Wave: 1, Mode: "paper", Status: "draft", Answers: storedAnswers()}
	if err := s.InsertResponse(ctx, draft); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.Collection(collResponses).InsertOne(ctx, toDoc(old)); err != nil {
		t.Fatal(err)
	}
	submitted := draft
	submitted.Status, submitted.Revision, submitted.CompletedOn, submitted.Derived = StatusSubmitted, 1, "2020-02-02", json.RawMessage(`{}`)
	revised := submitted
	revised.Revision, revised.CompletedOn = 2, "2020-02-03"
	oldSubmitted := old
	oldSubmitted.Status, oldSubmitted.Revision, oldSubmitted.CompletedOn = StatusSubmitted, 1, "2020-03-03"
	for _, step := range []struct{ next, prev Response }{{submitted, draft}, {revised, submitted}, {oldSubmitted, old}} {
		if err := s.UpdateResponse(ctx, step.next, step.prev); err != nil {
			t.Fatal(err)
		}
		var stored responseDoc
		if err := s.db.Collection(collResponses).FindOne(ctx, bson.D{{Key: "_id", Value: step.next.ID}}).Decode(&stored); err != nil {
			t.Fatal(err)
		}
		if want := factsOf(toDoc(step.next)); stored.Facts != want {
			t.Errorf("%s revision %d: stored facts %s, want %s", step.next.ID, step.next.Revision, stored.Facts, want)
		}
	}
	listed, err := s.ResponsesOfSite(ctx, "A")
	if err != nil || len(listed) != 2 {
		t.Fatalf("ResponsesOfSite = %+v (%v)", listed, err)
	}
	for i, want := range []Response{revised, oldSubmitted} {
		if got := listed[i]; got.ID != want.ID || got.Status != StatusSubmitted || got.Revision != want.Revision || got.CompletedOn != want.CompletedOn {
			t.Errorf("listed %+v, want %s submitted, revision %d, on %s", got, want.ID, want.Revision, want.CompletedOn)
		}
	}
}

// Each collection read by _id has one index on it, FerretDB's unique one,
// made on the expression FerretDB's lookups use, also in a store made
// before (FerretDB's index on its other expression, and a second index
// beside it): a duplicate _id is still refused.
func TestEmbedded_OneUniqueIndexOnIDServesLookups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInternal(t, dir)
	table, err := s.sqlr.table(ctx, collChildren)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`DROP INDEX %q`, table+"__id_"),
		fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (_ferretdb_sjson->"_id")`, table+"__id_", table),
		fmt.Sprintf(`CREATE INDEX %q ON %q (%s)`, table+"_id_lookup", table, idExpression),
	} {
		if _, err := s.sqlr.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close(ctx)
	s = openInternal(t, dir)
	defer s.Close(ctx)
	for _, coll := range readByID() {
		table, err := s.sqlr.table(ctx, coll)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.sqlr.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE '%_id%'`, table)
		if err != nil {
			t.Fatal(err)
		}
		var made []string
		for rows.Next() {
			var name, q string
			if err := rows.Scan(&name, &q); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(q, "("+idExpression+")") || strings.HasSuffix(q, `(_ferretdb_sjson->"_id")`) {
				made = append(made, q)
			}
		}
		rows.Close()
		want := []string{fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (%s)`, table+"__id_", table, idExpression)}
		if !slices.Equal(made, want) {
			t.Errorf("%s: indexes on _id %q, want %q", coll, made, want)
		}
	}
	c := Child{ID: "C1", Site: "A", Group: "comparison"}
	if _, err := s.CreateChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateChild(ctx, c); !errors.Is(err, ErrConflict) {
		t.Errorf("the same child twice: %v, want a conflict", err)
	}
}

// A store made when an account could hold two calendar addresses opens with
// the newest of them only, and the unique index made.
func TestOpen_KeepsTheNewestCalendarAddressOfEach(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openInternal(t, dir)
	coll := s.wdb.Collection(collCalendars)
	if _, err := coll.Indexes().DropOne(ctx, "user_unique"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, tok := range []CalendarToken{
		{Hash: "old", UserID: "u1", CreatedAt: at},
		{Hash: "new", UserID: "u1", CreatedAt: at.Add(time.Minute)},
		{Hash: "other", UserID: "u2", CreatedAt: at},
	} {
		if _, err := coll.InsertOne(ctx, tok); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = openInternal(t, dir)
	defer s.Close(ctx)
	var left []CalendarToken
	cur, err := s.wdb.Collection(collCalendars).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &left); err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, l := range left {
		hashes = append(hashes, l.Hash)
	}
	if !slices.Equal(hashes, []string{"new", "other"}) {
		t.Errorf("addresses left: %v; want [new other]", hashes)
	}
	if _, err := s.wdb.Collection(collCalendars).InsertOne(ctx, CalendarToken{Hash: "third", UserID: "u2"}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("a second address for u2: %v; want a duplicate key", err)
	}
}

// A page of a site's children reads the index q_site in order and stops
// at the page's end: SQLite's plan searches the index and sorts nothing.
func TestSQLReader_ChildrenPageSortsNothing(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, t.TempDir())
	defer s.Close(ctx)
	table, err := s.sqlr.table(ctx, collChildren)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.sqlr.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+childrenPageQuery(table), "A", "", 101)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH "+table+" USING INDEX "+table+"_q_site") {
		t.Errorf("plan %q; want one search of the index q_site, and no sort", plan)
	}
}

// The embedded store copies its write-ahead log into the database file in
// the background, soon after writes: well before the log is long enough
// for a commit to do it (SQLite's 1,000 pages, or walCheckpointPages).
// Until a checkpoint the new pages live in the log only, so the database
// file grows when, and only when, one is made.
func TestEmbedded_CheckpointsInTheBackground(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t, t.TempDir())
	defer s.Close(ctx)
	file := filepath.Join(s.embed.dir, "test.sqlite")
	size := func() int64 {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(200 * time.Millisecond) // what the start wrote is copied by then
	before := size()
	long := strings.Repeat("a long answer ", 300) // about 4 KiB: a page each
	var rs []Response
	for i := range 300 {
		rs = append(rs, Response{ID: fmt.Sprintf("r%03d", i), Form: "sct", Version: "1", ChildID: fmt.Sprintf("C%03d", i),
			Site: "A", Group: "comparison", Timepoint: "baseline", Wave: 1, CompletedOn: "2019-06-14", Mode: "paper",
			Status: StatusSubmitted, Revision: 1, BodyHash: "h", Answers: map[string]any{"note": long}})
	}
	if _, err := s.ImportResponses(ctx, rs); err != nil {
		t.Fatal(err)
	}
	const page = 4096
	deadline := time.Now().Add(checkpointIdle + 5*time.Second)
	for size()-before < 250*page {
		if time.Now().After(deadline) {
			t.Fatalf("the database file grew by %d pages of about 300 written: the log was not checkpointed", (size()-before)/page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
