// Command bench measures vpcepctl's rate control, waits and connections
// against the simulator, side by side in one run, and prints one table of
// ratios (make bench; README.md "Measured figures" shows its output).
// Ratios, not times: the machine is shared and noisy, and every scenario
// is measured against what the same run could have done at best.
//
//	go run ./internal/bench [-quick] [-run NAME]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// row is one line of the table.
type row struct {
	scenario string
	figure   string // what was measured, as a ratio or a count
	goal     string
	ok       bool
}

func main() {
	quick := flag.Bool("quick", false, "shorter runs (rougher figures)")
	only := flag.String("run", "", "only the scenarios whose name contains this")
	flag.Parse()
	scale := 1.0
	if *quick {
		scale = 0.3
	}
	start := time.Now()
	var rows []row
	for _, g := range []struct {
		name string
		run  func() []row
	}{
		{"rate", func() []row {
			var extra []func() row
			if *only == "" {
				extra = []func() row{defaultsRow, func() row { return burstRow(scale) }}
			}
			return rateRows(scale, *only, extra...)
		}},
		{"defaults", func() []row { return []row{defaultsRow()} }},
		{"burst", func() []row { return []row{burstRow(scale)} }},
		{"wall", func() []row { return []row{wallRow()} }},
		{"unreachable", unreachableRows},
		{"projects", func() []row { return []row{projectsRow()} }},
	} {
		all := *only == "" && g.name != "defaults" && g.name != "burst" // those run with the rates
		if all || *only != "" && (strings.Contains(g.name, *only) || g.name == "rate" && strings.Contains(*only, "/s")) {
			rows = append(rows, g.run()...)
		}
	}
	printTable(rows)
	fmt.Printf("\n%d scenarios in %s (go run ./internal/bench)\n", len(rows), time.Since(start).Round(time.Second))
	for _, r := range rows {
		if !r.ok {
			os.Exit(1)
		}
	}
}

// printTable writes the table in Markdown.
func printTable(rows []row) {
	w := [3]int{len("scenario"), len("measured"), len("goal")}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len(r.scenario)), max(w[1], len(r.figure)), max(w[2], len(r.goal))
	}
	line := func(a, b, c, d string) {
		fmt.Printf("| %-*s | %-*s | %-*s | %-4s |\n", w[0], a, w[1], b, w[2], c, d)
	}
	line("scenario", "measured", "goal", "met")
	fmt.Printf("|%s|%s|%s|------|\n", strings.Repeat("-", w[0]+2), strings.Repeat("-", w[1]+2), strings.Repeat("-", w[2]+2))
	for _, r := range rows {
		met := "yes"
		if !r.ok {
			met = "NO"
		}
		line(r.scenario, r.figure, r.goal, met)
	}
}

// parallel runs fs at once and returns their rows in order.
func parallel(fs ...func() row) []row {
	out := make([]row, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { out[i] = f() })
	}
	wg.Wait()
	return out
}
