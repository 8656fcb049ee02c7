package api

import "testing"

func TestReplacePatch(t *testing.T) {
	got := replacePatch(map[string]any{"a": 1.0, "b": 2.0}, map[string]any{"a": 3.0, "c": 4.0})
	want := map[string]any{"a": 3.0, "b": nil, "c": 4.0}
	if len(got) != len(want) || got["a"] != 3.0 || got["c"] != 4.0 {
		t.Errorf("replacePatch = %v, want %v", got, want)
	}
	if v, ok := got["b"]; !ok || v != nil {
		t.Errorf("replacePatch did not null the removed member b: %v", got)
	}
}
