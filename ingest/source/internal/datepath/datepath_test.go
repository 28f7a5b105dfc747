package datepath

import (
	"slices"
	"testing"
	"time"
)

func TestPrefixAndSpan(t *testing.T) {
	for _, c := range []struct {
		key        string
		segs       []string
		start, end string
	}{
		{"2024/05/01/13/x.gz", []string{"2024", "05", "01", "13"}, "2024-05-01T13:00:00Z", "2024-05-01T14:00:00Z"},
		{"2024/05/01/13/sub/x", []string{"2024", "05", "01", "13"}, "2024-05-01T13:00:00Z", "2024-05-01T14:00:00Z"},
		{"2024/02/29/x", []string{"2024", "02", "29"}, "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"2023/02/29/x", []string{"2023", "02"}, "2023-02-01T00:00:00Z", "2023-03-01T00:00:00Z"},
		{"2024/12/x", []string{"2024", "12"}, "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"2024/13/01/x", []string{"2024"}, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"2024/05/01/24/x", []string{"2024", "05", "01"}, "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"},
		{"2024", nil, "", ""},
		{"1899/01/x", nil, "", ""},
		{"20240/x", nil, "", ""},
		{"+024/x", nil, "", ""},
		{"logs/2024/05/x", nil, "", ""},
	} {
		segs := Prefix(c.key)
		if !slices.Equal(segs, c.segs) {
			t.Errorf("Prefix(%q) = %q, want %q", c.key, segs, c.segs)
			continue
		}
		start, end, ok := Span(segs)
		if ok != (c.start != "") {
			t.Errorf("Span(%q) ok = %v", segs, ok)
			continue
		}
		if ok && (start.Format(time.RFC3339) != c.start || end.Format(time.RFC3339) != c.end) {
			t.Errorf("Span(%q) = %v, %v; want %s, %s", segs, start, end, c.start, c.end)
		}
	}
}

func TestRange(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	h13, h14 := at("2024-05-01T13:00:00Z"), at("2024-05-01T14:00:00Z")
	r := Range{Since: h13, Until: h14}
	if !r.Overlaps(h13, h14) || r.Overlaps(h14, h14.Add(time.Hour)) || r.Overlaps(h13.Add(-time.Hour), h13) {
		t.Error("Overlaps is not half-open [Since, Until)")
	}
	if !r.Contains(h13, h14) || r.Contains(h13, h14.Add(time.Minute)) {
		t.Error("Contains")
	}
	if !(Range{}).Overlaps(h13, h14) || (Range{}).Set() || !(Range{Until: h14}).Contains(time.Time{}, h13) {
		t.Error("open range")
	}
}
