package das

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/das/kmsfake"
	"github.com/auditlens/auditlens/store/model"
)

const ordersFirstObject = "das/2026/11/25/11/aws-rds-das-cluster-6CLRJYDL4QHALWPH3GMV6GPTPF-1-2026-11-25-11-42-16-2b5210dd-1815-4db2-b344-d81bb72696be"

func ordersExpected(t *testing.T) expectedFolder {
	var exp expectedFolder
	readJSON(t, filepath.Join(corpusDir, "orders-prod", "expected.json"), &exp)
	return exp
}

func TestKMSAccessDeniedNamesKeyAndAction(t *testing.T) {
	exp := ordersExpected(t)
	fake, client := folderKMS(t, "orders-prod")
	fake.Deny(exp.KMSKeyID)
	d, err := NewDecoder(NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	c, st := decodeFile(t, d, "orders-prod", ordersFirstObject, Options{ResourceID: exp.ClusterResourceID})
	if len(c.events) != 0 || len(c.rejects) != int(st.Records) || st.Records == 0 {
		t.Fatalf("events %d, rejects %d of %d records", len(c.events), len(c.rejects), st.Records)
	}
	for _, r := range c.rejects {
		if r.Reason != model.ReasonKMSAccess {
			t.Fatalf("reason %q", r.Reason)
		}
		for _, want := range []string{exp.KMSKeyID, "kms:Decrypt", "AccessDeniedException", exp.ClusterResourceID} {
			if !strings.Contains(r.Detail, want) {
				t.Errorf("detail %q does not name %q", r.Detail, want)
			}
		}
	}
	t.Log(c.rejects[0].Detail)
	// A refusal is definite: one call per distinct key, not one per record.
	if got := fake.Calls("Decrypt"); got != d.KMSCalls() || got >= st.Records {
		t.Errorf("Decrypt calls %d (decoder %d) for %d records", got, d.KMSCalls(), st.Records)
	}
}

func TestKMSThrottlingRetried(t *testing.T) {
	exp := ordersExpected(t)
	fake, client := folderKMS(t, "orders-prod")
	fake.Throttle(3)
	k := NewKMS(client).WithRetry(5, time.Millisecond)
	d, err := NewDecoder(k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := decodeFile(t, d, "orders-prod", ordersFirstObject, Options{ResourceID: exp.ClusterResourceID})
	if len(c.rejects) != 0 || len(c.events) != exp.Objects[0].RecordEvents {
		t.Fatalf("rejects %+v, events %d", c.rejects, len(c.events))
	}
	if k.Calls() != d.KMSCalls()+3 || fake.Calls("Decrypt") != k.Calls() {
		t.Errorf("requests %d (fake %d), keys %d: want keys+3", k.Calls(), fake.Calls("Decrypt"), d.KMSCalls())
	}
}

func TestKMSThrottlingExhausted(t *testing.T) {
	exp := ordersExpected(t)
	fake, client := folderKMS(t, "orders-prod")
	fake.Throttle(1000)
	d, err := NewDecoder(NewKMS(client).WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := decodeFile(t, d, "orders-prod", ordersFirstObject, Options{ResourceID: exp.ClusterResourceID})
	if len(c.rejects) == 0 {
		t.Fatal("no rejects")
	}
	for _, r := range c.rejects {
		if r.Reason != model.ReasonKMSAccess || !strings.Contains(r.Detail, "ThrottlingException") || !strings.Contains(r.Detail, "kms:Decrypt") {
			t.Fatalf("reject %+v", r)
		}
	}
	// Not cached: once KMS recovers, the same decoder gets the keys.
	fake.Throttle(0)
	c, _ = decodeFile(t, d, "orders-prod", ordersFirstObject, Options{ResourceID: exp.ClusterResourceID})
	if len(c.rejects) != 0 {
		t.Fatalf("after recovery: %+v", c.rejects[0])
	}
}

func TestKMSContextCanceled(t *testing.T) {
	exp := ordersExpected(t)
	fake, client := folderKMS(t, "orders-prod")
	fake.Throttle(1000)
	d, err := NewDecoder(NewKMS(client).WithRetry(100, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var c collected
	_, err = d.Decode(ctx, "x", ordersFirstObject, strings.NewReader(readCorpus(t, "orders-prod", ordersFirstObject)),
		Options{ResourceID: exp.ClusterResourceID}, c.emit)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err %v", err)
	}
}

// The standard AWS settings reach a custom endpoint: AWS_ENDPOINT_URL_KMS.
func TestNewKMSClientEndpointFromEnv(t *testing.T) {
	table, err := kmsfake.LoadKeysJSON(filepath.Join(corpusDir, "orders-prod", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	fake := kmsfake.New(table)
	hs := httptest.NewServer(fake)
	defer hs.Close()
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_KMS", hs.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	client, err := NewKMSClient(context.Background(), "us-east-1", "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	exp := ordersExpected(t)
	c, _ := decodeFile(t, d, "orders-prod", ordersFirstObject, Options{ResourceID: exp.ClusterResourceID})
	if len(c.rejects) != 0 || len(c.events) == 0 || fake.Calls("Decrypt") == 0 {
		t.Fatalf("rejects %v, events %d, fake calls %d", c.rejects, len(c.events), fake.Calls("Decrypt"))
	}
}

// Concurrent decodes of objects sharing keys ask KMS once per key.
func TestDecodeConcurrentOneCallPerKey(t *testing.T) {
	exp := ordersExpected(t)
	fake, client := folderKMS(t, "orders-prod")
	d, err := NewDecoder(NewKMS(client))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	events := 0
	for range 3 {
		for _, o := range exp.Objects {
			wg.Go(func() {
				c, _ := decodeFile(t, d, "orders-prod", strings.TrimPrefix(o.Path, "s3/"), Options{ResourceID: exp.ClusterResourceID})
				mu.Lock()
				events += len(c.events)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if events != 3*exp.Totals.RecordEvents {
		t.Errorf("events %d, want %d", events, 3*exp.Totals.RecordEvents)
	}
	if fake.Calls("Decrypt") != int64(exp.Totals.DataKeysUsed) || d.KMSCalls() != int64(exp.Totals.DataKeysUsed) {
		t.Errorf("Decrypt calls %d (decoder %d), want %d", fake.Calls("Decrypt"), d.KMSCalls(), exp.Totals.DataKeysUsed)
	}
}

func TestFakeKMSRejectsExtraContextPair(t *testing.T) {
	table, err := kmsfake.LoadKeysJSON(filepath.Join(corpusDir, "orders-prod", "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, client := fakeKMS(t, table)
	k := NewKMS(client)
	for blobB64, key := range table {
		blob, _ := decodeBase64(blobB64)
		good := map[string]string{EncryptionContextKey: key.EncryptionContext[EncryptionContextKey]}
		if pt, err := k.DecryptDataKey(context.Background(), blob, good); err != nil || string(pt) != string(key.Plaintext) {
			t.Fatalf("good context: %v", err)
		}
		extra := map[string]string{EncryptionContextKey: good[EncryptionContextKey], "x": "y"}
		_, err := k.DecryptDataKey(context.Background(), blob, extra)
		if ke, ok := err.(*KeyError); !ok || ke.Kind != KeyUnknown {
			t.Fatalf("extra pair: %v", err)
		}
		_, err = k.DecryptDataKey(context.Background(), blob, nil)
		if ke, ok := err.(*KeyError); !ok || ke.Kind != KeyUnknown {
			t.Fatalf("no context: %v", err)
		}
		break
	}
}
