package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// previous holds the table cells of the report a run replaces, so that each figure that changed
// can show the value it replaces beside it.
type previous map[cellKey]string

// cellKey is where a cell sits: its section (by measure number), its table (by header), its row
// (rowKeys) and its column (by header).
type cellKey struct{ section, table, row, column string }

// wasMark starts the note annotate adds; what follows it in a cell is not the figure.
const wasMark = " (was "

// readPrevious reads the tables of a report written by this program; no file is no report.
func readPrevious(path string) (previous, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return previous{}, nil
	}
	if err != nil {
		return nil, err
	}
	p := previous{}
	sec := ""
	var rows [][]string
	flush := func() {
		if len(rows) > 2 {
			p.add(sec, newTableOf(rows))
		}
		rows = nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "|") {
			rows = append(rows, splitRow(line))
			continue
		}
		flush()
		if title, ok := strings.CutPrefix(line, "## "); ok {
			sec = sectionKey(title)
		}
	}
	flush()
	return p, nil
}

// newTableOf is a parsed markdown table: header, separator, rows.
func newTableOf(rows [][]string) *table {
	t := newTable(rows[0]...)
	for _, r := range rows[2:] {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i], _, _ = strings.Cut(c, wasMark)
		}
		t.add(cells...)
	}
	return t
}

func (p previous) add(sec string, t *table) {
	tk := strings.Join(t.header, "|")
	for i, rk := range rowKeys(t) {
		for j, c := range t.rows[i] {
			if j < len(t.header) {
				p[cellKey{sec, tk, rk, t.header[j]}] = c
			}
		}
	}
}

// annotate adds to each figure of t that differs from the previous report's the value it had
// there, and the relative change when both are plain numbers of the same unit.
func (p previous) annotate(sec string, t *table) {
	tk := strings.Join(t.header, "|")
	for i, rk := range rowKeys(t) {
		for j := 1; j < len(t.rows[i]) && j < len(t.header); j++ {
			now := t.rows[i][j]
			was, ok := p[cellKey{sec, tk, rk, t.header[j]}]
			if !ok || now == "" || was == "" || was == now {
				continue
			}
			if c, ok := change(was, now); ok {
				was += ", " + c
			}
			t.rows[i][j] = now + wasMark + was + ")"
		}
	}
}

// sectionKey names a section by its measure number ("4."), which outlives a change of its
// title's figures, or by its whole title.
func sectionKey(title string) string {
	if n, _, ok := strings.Cut(title, " "); ok && strings.HasSuffix(n, ".") {
		if _, err := strconv.Atoi(strings.TrimSuffix(n, ".")); err == nil {
			return n
		}
	}
	return title
}

// rowKeys names each row by its first cell, or by its first two where the first repeats
// (the same call made by different callers).
func rowKeys(t *table) []string {
	seen := map[string]int{}
	for _, r := range t.rows {
		seen[r[0]]++
	}
	keys := make([]string, len(t.rows))
	for i, r := range t.rows {
		keys[i] = r[0]
		if seen[r[0]] > 1 && len(r) > 1 {
			keys[i] += "|" + r[1]
		}
	}
	return keys
}

// splitRow splits a markdown table line into its cells, undoing markdown()'s escapes.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

var (
	plainFigure = regexp.MustCompile(`^(-?[0-9][0-9,]*(?:\.[0-9]+)?)( ?(?:ms|s|x|B|/s))?$`)
	sizeFigure  = regexp.MustCompile(`^[0-9.]+ MiB \(([0-9]+) bytes\)$`)
)

// change is now's change from was, in per cent, when both are one number of the same unit.
func change(was, now string) (string, bool) {
	a, ua, ok1 := figure(was)
	b, ub, ok2 := figure(now)
	if !ok1 || !ok2 || ua != ub || a == 0 {
		return "", false
	}
	return fmt.Sprintf("%+.1f%%", (b-a)/a*100), true
}

func figure(s string) (float64, string, bool) {
	if m := sizeFigure.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseFloat(m[1], 64)
		return n, "bytes", err == nil
	}
	m := plainFigure.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	return n, strings.TrimSpace(m[2]), err == nil
}
