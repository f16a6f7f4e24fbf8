package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// A report written by document reads back cell for cell, and the next run's tables show each
// changed figure beside its old value, with the change when both are one number of one unit;
// an annotated report reads back as the figures alone, so the notes never pile up.
func TestPreviousReport(t *testing.T) {
	run := func(date string, sizes, calls [][]string) (*table, []section) {
		m := newTable("", "")
		m.add("Date", date)
		s := newTable("Function", "Size", "Met")
		s.rows = sizes
		c := newTable("Call", "Made by", "Calls")
		c.rows = calls
		return m, []section{{title: "4. Sizes, " + date, tables: []*table{s, c}}}
	}
	path := filepath.Join(t.TempDir(), "BENCHMARK.md")
	m1, s1 := run("day 1",
		[][]string{
			{"GetScreenerFunction", "10.31 MiB (10813602 bytes)", "yes"},
			{"Ratio a|b", "1.12x", "yes"},
		},
		[][]string{
			{"DynamoDB GetItem", "worker: rows", "2"},
			{"DynamoDB GetItem", "worker: job bookkeeping", "3"},
		})
	if err := os.WriteFile(path, []byte(document(m1, s1, previous{})), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := readPrevious(path)
	if err != nil {
		t.Fatal(err)
	}

	m2, s2 := run("day 2",
		[][]string{
			{"GetScreenerFunction", "9.81 MiB (10289314 bytes)", "yes"},
			{"Ratio a|b", "1.40x", "**no**"},
			{"ImportWorkerFunction", "9.88 MiB (10354850 bytes)", "yes"},
		},
		[][]string{
			{"DynamoDB GetItem", "worker: job bookkeeping", "4"},
			{"DynamoDB GetItem", "worker: rows", "2"},
		})
	doc := document(m2, s2, before)
	wantSizes := [][]string{
		{"GetScreenerFunction", "9.81 MiB (10289314 bytes) (was 10.31 MiB (10813602 bytes), -4.8%)", "yes"},
		{"Ratio a|b", "1.40x (was 1.12x, +25.0%)", "**no** (was yes)"},
		{"ImportWorkerFunction", "9.88 MiB (10354850 bytes)", "yes"},
	}
	wantCalls := [][]string{
		{"DynamoDB GetItem", "worker: job bookkeeping", "4 (was 3, +33.3%)"},
		{"DynamoDB GetItem", "worker: rows", "2"},
	}
	if got := s2[0].tables[0].rows; !reflect.DeepEqual(got, wantSizes) {
		t.Errorf("annotated sizes:\n got %q\nwant %q", got, wantSizes)
	}
	if got := s2[0].tables[1].rows; !reflect.DeepEqual(got, wantCalls) {
		t.Errorf("annotated calls:\n got %q\nwant %q", got, wantCalls)
	}
	if got := m2.rows[0][1]; got != "day 2 (was day 1)" {
		t.Errorf("machine date = %q, want the previous run's beside it", got)
	}

	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := readPrevious(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[cellKey]string{
		{"4.", "Function|Size|Met", "GetScreenerFunction", "Size"}:                        "9.81 MiB (10289314 bytes)",
		{"4.", "Function|Size|Met", "Ratio a|b", "Met"}:                                   "**no**",
		{"4.", "Call|Made by|Calls", "DynamoDB GetItem|worker: job bookkeeping", "Calls"}: "4",
		{"Machine", "|", "Date", ""}:                                                      "day 2",
	} {
		if again[k] != v {
			t.Errorf("read back %+v = %q, want %q", k, again[k], v)
		}
	}
}
