package ddb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/participant-roster/roster/pkg/platform/ddb"
)

func TestCursorRoundTripAndRejections(t *testing.T) {
	table := ddb.Partition{PK: "WS#ws_1#SCPAR"}
	index := ddb.Partition{Index: ddb.IndexGSI1, PK: "WS#ws_1#SCR#scr_1#SCPAR", ItemPK: "WS#ws_1#SCPAR"}
	c := table.Cursor("scpar_01")
	if got, err := table.ParseCursor(c, 1); err != nil || len(got) != 1 || got[0] != "scpar_01" {
		t.Fatalf("round trip: %v %v", got, err)
	}
	ci := index.Cursor("scpar_02", "scpar_02")
	if got, err := index.ParseCursor(ci, 2); err != nil || len(got) != 2 || got[1] != "scpar_02" {
		t.Fatalf("index round trip: %v %v", got, err)
	}
	if strings.Trim(c, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != "" {
		t.Fatalf("cursor %q is not URL-safe", c)
	}
	flipped := []byte(c)
	flipped[len(flipped)-2] ^= 1
	other := ddb.Partition{PK: "WS#ws_2#SCPAR"}
	for name, tc := range map[string]struct {
		p    ddb.Partition
		c    string
		want int
	}{
		"another workspace":        {other, c, 1},
		"the index's cursor":       {table, ci, 1},
		"the table's on the index": {index, c, 2},
		"altered":                  {table, string(flipped), 1},
		"another version":          {table, "2" + c[1:], 1},
		"padded":                   {table, c + "=", 1},
		"appended":                 {table, c + "AA", 1},
		"truncated":                {table, c[:len(c)-3], 1},
		"empty":                    {table, "", 1},
		"version only":             {table, "1", 1},
		"long garbage":             {table, "1" + strings.Repeat("A", 600), 1},
		"counter position":         {table, table.Cursor(ddb.CountSK), 1},
		"empty sort key":           {table, table.Cursor(""), 1},
	} {
		if _, err := tc.p.ParseCursor(tc.c, tc.want); !errors.Is(err, ddb.ErrBadCursor) {
			t.Errorf("%s: %v, want ErrBadCursor", name, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	p := ddb.Partition{PK: "WS#ws_1#SCPAR"}
	f.Add(p.Cursor("scpar_01"))
	f.Add("1AAAA")
	f.Fuzz(func(t *testing.T, c string) {
		keys, err := p.ParseCursor(c, 1)
		if err != nil {
			return
		}
		if p.Cursor(keys...) != c {
			t.Fatalf("%q parsed to %q, which encodes differently", c, keys)
		}
	})
}
