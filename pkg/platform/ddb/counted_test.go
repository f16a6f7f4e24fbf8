package ddb_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/participant-roster/roster/pkg/dev/testkit"
	"github.com/participant-roster/roster/pkg/platform/ddb"
	"github.com/participant-roster/roster/pkg/platform/ids"
)

// TestCountedListCountsEachPlaceOnce: writers that add and remove overlapping places at once,
// each change made by three of them, leave counts as if each change was made once, and every
// offset locates the bucket and the skip of the record there.
func TestCountedListCountsEachPlaceOnce(t *testing.T) {
	env := testkit.NewEnv(t)
	table := ddb.New(env.Client, env.Table)
	ctx := context.Background()
	list := ddb.Counted{Name: "TEST#" + ids.New("")}
	first, err := table.Allocate(ctx, list, 350)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := table.Allocate(ctx, list, 1); err != nil || again != first+350 {
		t.Fatalf("second allocation starts at %d (%v), want %d", again, err, first+350)
	}
	var places []int64
	for i := range int64(350) {
		if i%7 != 3 { // gaps: places handed out and never used
			places = append(places, first+i)
		}
	}
	removed := map[int64]bool{}
	for i, p := range places {
		if i%5 == 0 {
			removed[p] = true
		}
	}
	none := func(map[ddb.Counted]int) ([]types.TransactWriteItem, error) { return nil, nil }
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for w := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := (w % 3) * 20; start < len(places); start += 60 {
				m := ddb.Membership{}
				for _, p := range places[start:min(start+20, len(places))] {
					m.Add(list, p)
				}
				if err := table.AssertMembership(ctx, m, none); err != nil {
					errs <- err
					return
				}
			}
			m := ddb.Membership{}
			for p := range removed {
				if int(p)%9 == w {
					m.Remove(list, p)
				}
			}
			errs <- table.AssertMembership(ctx, m, none)
		}()
	}
	// The removals again, all at once: they are counted once.
	again := ddb.Membership{}
	for p := range removed {
		again.Remove(list, p)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := table.AssertMembership(ctx, again, none); err != nil {
		t.Fatal(err)
	}
	var live []int64
	for _, p := range places {
		if !removed[p] {
			live = append(live, p)
		}
	}
	for offset := range len(live) + 2 {
		total, from, skip, err := table.Locate(ctx, list, offset)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(live) {
			t.Fatalf("total %d, want %d", total, len(live))
		}
		if offset >= len(live) {
			if skip != -1 {
				t.Fatalf("offset %d past the end: skip %d, want -1", offset, skip)
			}
			continue
		}
		bucket := live[offset] / ddb.BucketSize
		wantSkip := offset - slices.IndexFunc(live, func(p int64) bool { return p/ddb.BucketSize == bucket })
		if from != bucket*ddb.BucketSize || skip != wantSkip {
			t.Fatalf("offset %d (place %d): from %d skip %d, want from %d skip %d", offset, live[offset], from, skip, bucket*ddb.BucketSize, wantSkip)
		}
	}
}

// TestMembershipInAFailedTransactionCountsNothing: the count moves with the records it counts
// or not at all.
func TestMembershipInAFailedTransactionCountsNothing(t *testing.T) {
	env := testkit.NewEnv(t)
	table := ddb.New(env.Client, env.Table)
	ctx := context.Background()
	list := ddb.Counted{Name: "TEST#" + ids.New("")}
	m := ddb.Membership{}
	m.Add(list, 1)
	m.Add(list, 2)
	missing := ddb.Key{PK: "TEST#missing", SK: "x"}
	ops := append(table.MembershipOps(m), table.DeleteOp(missing, "attribute_exists(pk)", nil))
	if err := table.TransactWrite(ctx, ops); err == nil {
		t.Fatal("the transaction went through")
	}
	if total, _, _, err := table.Locate(ctx, list, 0); err != nil || total != 0 {
		t.Fatalf("total %d (%v), want 0", total, err)
	}
	if n := ddb.MembershipOpCount(m); n != len(ops)-1 {
		t.Fatalf("MembershipOpCount %d, MembershipOps %d", n, len(ops)-1)
	}
}
