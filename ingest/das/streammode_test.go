package das

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRDS answers DescribeDBClusters (AWS query protocol) from a table of
// resource id → mode, as the RDS API does for clusters with activity streams.
func fakeRDS(t *testing.T, modes map[string]string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") != "DescribeDBClusters" {
			http.Error(w, "unexpected action "+form.Get("Action"), http.StatusBadRequest)
			return
		}
		id := form.Get("Filters.Filter.1.Values.Value.1")
		if id == "" {
			id = form.Get("DBClusterIdentifier")
		}
		var clusters string
		if m, ok := modes[id]; ok {
			clusters = "<DBCluster><DBClusterIdentifier>x</DBClusterIdentifier><DbClusterResourceId>" + id +
				"</DbClusterResourceId><ActivityStreamMode>" + m + "</ActivityStreamMode><ActivityStreamStatus>started</ActivityStreamStatus></DBCluster>"
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBClustersResult><DBClusters>`+
			clusters+`</DBClusters></DescribeDBClustersResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeDBClustersResponse>`)
	}))
}

func TestStreamModeFromRDS(t *testing.T) {
	srv := fakeRDS(t, map[string]string{"cluster-ASYNC1": "async", "orders-prod": "sync"})
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_RDS", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	for _, tc := range []struct{ cluster, want string }{{"cluster-ASYNC1", "async"}, {"orders-prod", "sync"}} {
		got, err := StreamMode(ctx, "us-east-1", "", tc.cluster)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.cluster, got, err, tc.want)
		}
	}
	if _, err := StreamMode(ctx, "us-east-1", "", "cluster-NONE"); !errors.Is(err, ErrNoStream) {
		t.Errorf("unknown cluster: %v", err)
	}
	if _, err := StreamMode(ctx, "us-east-1", "", "cluster-NONE"); err == nil || !strings.Contains(err.Error(), "cluster-NONE") {
		t.Errorf("error does not name the cluster: %v", err)
	}
}
