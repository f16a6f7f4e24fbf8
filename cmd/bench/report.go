package main

import (
	"fmt"
	"strings"
)

// table is one markdown table.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}

// section is one measure: a heading, what was done, its tables and notes.
type section struct {
	title  string
	intro  string
	tables []*table
	notes  []string
}

func (s section) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", s.title)
	if s.intro != "" {
		b.WriteString(s.intro + "\n\n")
	}
	for _, t := range s.tables {
		b.WriteString(t.markdown() + "\n")
	}
	for _, n := range s.notes {
		b.WriteString("- " + n + "\n")
	}
	if len(s.notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}
