package tether_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-iot/tether"
)

func TestTwinCollectionPatch(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tw := tether.NewTwin("d1")
	c := &tw.Desired
	if err := c.Patch("desired", map[string]any{"a": 1.0, "o": map[string]any{"x": 1.0, "y": 2.0}, "$version": 9.0}, t0); err != nil {
		t.Fatal(err)
	}
	if err := c.Patch("desired", map[string]any{"a": nil, "o": map[string]any{"y": nil, "z": 3.0}}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"o": map[string]any{"x": 1.0, "z": 3.0}}
	if diff := cmp.Diff(want, c.Props); diff != "" {
		t.Errorf("Props after two patches (-want +got):\n%s", diff)
	}
	if c.Version != 3 {
		t.Errorf("Version = %d, want 3", c.Version)
	}
	o := c.Meta["o"].(map[string]any)
	if o["z"].(map[string]any)["$lastUpdatedVersion"] != int64(3) || o["x"].(map[string]any)["$lastUpdatedVersion"] != int64(2) {
		t.Errorf("$metadata.o = %v; want x at version 2 and z at version 3", o)
	}
	if _, ok := c.Meta["a"]; ok {
		t.Error("$metadata keeps a deleted member")
	}
	if c.Meta["$lastUpdated"] != t0.Add(time.Minute).Format(time.RFC3339Nano) {
		t.Errorf("$metadata.$lastUpdated = %v", c.Meta["$lastUpdated"])
	}
}

func TestTwinCollectionRefusesBadPatches(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for range 11 {
		next := map[string]any{}
		cur["k"] = next
		cur = next
	}
	big := map[string]any{}
	for i := range 10 {
		big[strings.Repeat("k", i+1)] = strings.Repeat("v", 4000)
	}
	for _, tc := range []struct {
		name  string
		patch map[string]any
		want  string
	}{
		{"dollar", map[string]any{"$x": 1.0}, "$x"},
		{"dot", map[string]any{"a.b": 1.0}, "a.b"},
		{"space", map[string]any{"a b": 1.0}, "a b"},
		{"control", map[string]any{"a\x01": 1.0}, "control"},
		{"deep", deep, "nested"},
		{"long value", map[string]any{"s": strings.Repeat("x", 4097)}, "4097 bytes"},
		{"too big", big, "32768"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw := tether.NewTwin("d1")
			err := tw.Desired.Patch("desired", tc.patch, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Patch = %v, want error containing %q", err, tc.want)
			}
			if tw.Desired.Version != 1 || len(tw.Desired.Props) != 0 {
				t.Errorf("a refused patch changed the collection: %+v", tw.Desired)
			}
		})
	}
}

func TestTwinCollectionReplace(t *testing.T) {
	tw := tether.NewTwin("d1")
	now := time.Now()
	tw.Desired.Patch("desired", map[string]any{"a": 1.0}, now)
	if err := tw.Desired.Replace("desired", map[string]any{"b": 2.0, "c": nil}, now); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"b": 2.0}, tw.Desired.Props); diff != "" || tw.Desired.Version != 3 {
		t.Errorf("after Replace: version %d, props diff:\n%s", tw.Desired.Version, diff)
	}
}
