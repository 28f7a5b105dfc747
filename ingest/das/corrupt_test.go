package das

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/store/model"
)

// corpusReasons maps the reason names of corrupt/expected.json to model reasons.
var corpusReasons = map[string]string{
	"truncated":            model.ReasonTruncated,
	"bad_base64":           model.ReasonBase64,
	"kms_unknown_key":      model.ReasonKMSUnknownKey,
	"kms_context_mismatch": model.ReasonKMSContext,
	"decrypt_failed":       model.ReasonDecryptAuth,
	"not_gzip":             model.ReasonGzip,
	"bad_json":             model.ReasonJSON,
}

func TestCorrupt(t *testing.T) {
	var exp struct {
		ClusterResourceID string `json:"cluster_resource_id"`
		ClusterName       string `json:"cluster_name"`
		Totals            struct {
			GoodEvents     int `json:"good_record_events"`
			GoodHeartbeats int `json:"good_heartbeats"`
			Rejected       int `json:"rejected_records"`
		} `json:"totals"`
		Objects []struct {
			Key            string `json:"key"`
			Path           string `json:"path"`
			Case           string `json:"case"`
			GoodEvents     int    `json:"good_record_events"`
			GoodHeartbeats int    `json:"good_heartbeats"`
			Records        []struct {
				Index      int    `json:"index"`
				OK         bool   `json:"ok"`
				Reason     string `json:"reason"`
				Events     int    `json:"record_events"`
				Heartbeats int    `json:"heartbeats"`
			} `json:"records"`
		} `json:"objects"`
	}
	readJSON(t, filepath.Join(corpusDir, "corrupt", "expected.json"), &exp)
	_, client := folderKMS(t, "corrupt")
	d, err := NewDecoder(NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Cluster: exp.ClusterName, ResourceID: exp.ClusterResourceID}
	var events, heartbeats, rejects int
	for _, o := range exp.Objects {
		t.Run(o.Case, func(t *testing.T) {
			c, st := decodeFile(t, d, "corrupt", strings.TrimPrefix(o.Path, "s3/"), opt)
			events += len(c.events)
			heartbeats += len(c.heartbeats)
			rejects += len(c.rejects)
			if len(c.events) != o.GoodEvents || len(c.heartbeats) != o.GoodHeartbeats {
				t.Errorf("good events/heartbeats %d/%d, want %d/%d", len(c.events), len(c.heartbeats), o.GoodEvents, o.GoodHeartbeats)
			}
			offsets := c.recordOffsets()
			if len(offsets) != len(o.Records) || int(st.Records) != len(o.Records) {
				t.Fatalf("%d records seen (stats %d), want %d; rejects %+v", len(offsets), st.Records, len(o.Records), c.rejects)
			}
			var bad int
			for _, rec := range o.Records {
				off := offsets[rec.Index]
				var got []model.Reject
				for _, r := range c.rejects {
					if r.Offset == off {
						got = append(got, r)
					}
				}
				if rec.OK {
					if len(got) != 0 {
						t.Errorf("record %d: rejected %+v", rec.Index, got)
					}
					continue
				}
				bad++
				want := corpusReasons[rec.Reason]
				if len(got) != 1 || got[0].Reason != want {
					t.Errorf("record %d: rejects %+v, want one %q", rec.Index, got, want)
					continue
				}
				if got[0].Detail == "" {
					t.Errorf("record %d: reject without detail", rec.Index)
				}
				t.Logf("record %d: %s: %s", rec.Index, got[0].Reason, got[0].Detail)
			}
			if len(c.rejects) != bad {
				t.Errorf("%d rejects, want %d: %+v", len(c.rejects), bad, c.rejects)
			}
			if o.Case == "unknown_version" && st.UnknownVersions != 1 {
				t.Errorf("unknown versions %d, want 1", st.UnknownVersions)
			}
		})
	}
	if events != exp.Totals.GoodEvents || heartbeats != exp.Totals.GoodHeartbeats || rejects != exp.Totals.Rejected {
		t.Errorf("totals events/heartbeats/rejects %d/%d/%d, want %d/%d/%d", events, heartbeats, rejects,
			exp.Totals.GoodEvents, exp.Totals.GoodHeartbeats, exp.Totals.Rejected)
	}
}
