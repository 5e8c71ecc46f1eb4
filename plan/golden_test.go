package plan

import (
	"bytes"
	"testing"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
)

// TestGolden renders the scenario of every action and every status, with
// all flags and with none, as text (plain and coloured) and JSON.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		color bool
	}{
		{"flags", Options{Adopt: true, Prune: true, AllowReplace: true}, false},
		{"flags_color", Options{Adopt: true, Prune: true, AllowReplace: true}, true},
		{"noflags", Options{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Diff(scenario(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := WriteText(&text, p, TextOptions{Color: tc.color}); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, "testdata/"+tc.name+".txt.golden", text.Bytes())
			if tc.color {
				return
			}
			var js bytes.Buffer
			if err := WriteJSON(&js, p); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, "testdata/"+tc.name+".json.golden", js.Bytes())
		})
	}
}
