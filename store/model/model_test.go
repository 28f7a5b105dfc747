package model

import "testing"

func TestEventRef(t *testing.T) {
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{ObjectRef: "s3://b/k#12"}, "s3://b/k#12"},
		{Event{ObjectRef: "/logs/postgresql.log", RefLine: 7}, "/logs/postgresql.log:7"},
		{Event{ObjectRef: "/logs/x@etag", RefLine: 1234567890123}, "/logs/x@etag:1234567890123"},
		{Event{ObjectRef: "/logs/x", RefLine: -1}, "/logs/x"},
	} {
		if got := c.e.Ref(); got != c.want {
			t.Errorf("Ref() = %q, want %q", got, c.want)
		}
		if got := string(c.e.AppendRef([]byte("pre|"))); got != "pre|"+c.want {
			t.Errorf("AppendRef = %q, want %q", got, "pre|"+c.want)
		}
	}
}
