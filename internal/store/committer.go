package store

import (
	"context"
	"errors"
	"sync"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// committer groups inserts into one collection that arrive while an insert
// is under way into one InsertMany: group commit. SQLite has one writer and
// each write waits for its own sync to disk; a batch of a hundred costs
// little more than one. Each caller is answered only once its batch is
// written, with its own document's outcome (a duplicate key refuses that
// document alone), so an acknowledgement means the same as with InsertOne.
type committer struct {
	coll     *mongo.Collection
	in       chan insertReq
	stop     chan struct{}
	finished chan struct{} // closed once run has returned
	done     sync.WaitGroup
}

type insertReq struct {
	ctx   context.Context
	doc   any
	reply chan error
}

// maxBatch bounds a batch, keeping one write command well under the
// server's message limit for documents of up to 16 KiB.
const maxBatch = 256

func newCommitter(coll *mongo.Collection) *committer {
	c := &committer{coll: coll, in: make(chan insertReq, maxBatch), stop: make(chan struct{}), finished: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

// insert writes doc in the next batch and returns its own outcome.
func (c *committer) insert(ctx context.Context, doc any) error {
	req := insertReq{ctx: ctx, doc: doc, reply: make(chan error, 1)}
	select {
	case c.in <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stop:
		return mongo.ErrClientDisconnected
	}
	// Once queued, the insert is awaited even if the caller gives up, so a
	// caller never reports failure for a document that was then written.
	select {
	case err := <-req.reply:
		return err
	case <-c.finished:
		select {
		case err := <-req.reply:
			return err
		default:
			return mongo.ErrClientDisconnected // queued after the last batch: not written
		}
	}
}

func (c *committer) run() {
	defer c.done.Done()
	defer close(c.finished)
	for {
		var batch []insertReq
		select {
		case r := <-c.in:
			batch = append(batch, r)
		case <-c.stop:
			c.drain()
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-c.in:
				batch = append(batch, r)
			default:
				break more
			}
		}
		c.write(batch)
	}
}

// drain answers what is still queued at close.
func (c *committer) drain() {
	for {
		select {
		case r := <-c.in:
			c.write([]insertReq{r})
		default:
			return
		}
	}
}

func (c *committer) write(batch []insertReq) {
	docs := make([]any, len(batch))
	for i, r := range batch {
		docs[i] = r.doc
	}
	// The batch is written on its own context: requests in it belong to
	// different callers, and one caller leaving must not cancel the rest.
	_, err := c.coll.InsertMany(context.Background(), docs, options.InsertMany().SetOrdered(false))
	var bulk mongo.BulkWriteException
	if err != nil && errors.As(err, &bulk) && bulk.WriteConcernError == nil {
		failed := map[int]error{}
		for _, we := range bulk.WriteErrors {
			failed[we.Index] = mongo.WriteException{WriteErrors: mongo.WriteErrors{we.WriteError}}
		}
		for i, r := range batch {
			r.reply <- failed[i]
		}
		return
	}
	for _, r := range batch {
		r.reply <- err
	}
}

func (c *committer) close() {
	close(c.stop)
	c.done.Wait()
}
