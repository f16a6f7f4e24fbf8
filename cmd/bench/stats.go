package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of ds; the median is p=50.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// medianFloat is the nearest-rank median of xs.
func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)+1)/2-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func fmtRatio(r float64) string { return fmt.Sprintf("%.2fx", r) }

// fmtTarget shows a ratio next to its target with enough digits that the verdict is visible.
func fmtTarget(r, target float64) string {
	for digits := 2; digits < 6; digits++ {
		if s := fmt.Sprintf("%.*fx", digits, r); s != fmt.Sprintf("%.*fx", digits, target) {
			return s
		}
	}
	return fmt.Sprintf("%.6fx", r)
}

func units(u float64) string {
	if u == math.Trunc(u) {
		return fmt.Sprintf("%.0f", u)
	}
	return fmt.Sprintf("%.1f", u)
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB (%d bytes)", float64(n)/(1<<20), n) }

// met says whether a figure meets its target.
func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// spread is the median of xs, with the range when they differ.
func spread(xs []float64) string {
	lo, hi := slices.Min(xs), slices.Max(xs)
	if lo == hi {
		return units(lo)
	}
	return fmt.Sprintf("%s (%s–%s)", units(medianFloat(xs)), units(lo), units(hi))
}
