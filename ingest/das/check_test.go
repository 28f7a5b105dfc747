package das

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// checkEvent compares every typed field of ev with the event JSON it came from,
// using an independent reading of the DAS field rules.
func checkEvent(t *testing.T, where string, ev model.Event, raw map[string]any, instance string) {
	t.Helper()
	str := func(k string) string {
		switch v := raw[k].(type) {
		case string:
			return v
		case nil:
			return ""
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		t.Errorf("%s: %s has type %T", where, k, raw[k])
		return ""
	}
	num := func(k string) *int64 {
		switch v := raw[k].(type) {
		case float64:
			n := int64(v)
			return &n
		case string:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil
			}
			return &n
		}
		return nil
	}
	num32 := func(k string) *int32 {
		if p := num(k); p != nil {
			v := int32(*p)
			return &v
		}
		return nil
	}
	eq := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s = %#v, want %#v", where, field, got, want)
		}
	}
	lt, err := time.Parse("2006-01-02 15:04:05.999999999-07", str("logTime"))
	if err != nil {
		t.Errorf("%s: logTime %q: %v", where, str("logTime"), err)
	}
	eq("LogTime", ev.LogTime.UTC(), lt.UTC())
	eq("Source", ev.Source, model.SourceDAS)
	eq("Instance", ev.Instance, instance)
	eq("SessionID", ev.SessionID, str("sessionId"))
	eq("StatementID", ev.StatementID, num("statementId"))
	eq("SubstatementID", ev.SubstatementID, num("substatementId"))
	eq("AuditType", ev.AuditType, "")
	class := str("class")
	if c := str("command"); c == "CONNECT" || c == "DISCONNECT" {
		class = "CONNECT"
	}
	eq("Class", ev.Class, class)
	eq("Command", ev.Command, str("command"))
	eq("ObjectType", ev.ObjectType, str("objectType"))
	eq("ObjectName", ev.ObjectName, str("objectName"))
	eq("Statement", ev.Statement, str("commandText"))
	var params []string
	if l, ok := raw["paramList"].([]any); ok && len(l) > 0 {
		for _, p := range l {
			s, _ := p.(string)
			params = append(params, s)
		}
	}
	eq("Params", ev.Params, params)
	eq("RowCount", ev.RowCount, num("rowCount"))
	eq("DatabaseName", ev.DatabaseName, str("databaseName"))
	eq("UserName", ev.UserName, str("dbUserName"))
	eq("ApplicationName", ev.ApplicationName, str("clientApplication"))
	eq("RemoteHost", ev.RemoteHost, str("remoteHost"))
	eq("RemotePort", ev.RemotePort, num32("remotePort"))
	eq("PID", ev.PID, num32("pid"))
	eq("ErrorMessage", ev.ErrorMessage, str("errorMessage"))
	eq("ExitCode", ev.ExitCode, num32("exitCode"))
	eq("Internal", ev.Internal, model.IsInternalUser(str("dbUserName")))
	var got map[string]any
	if err := json.Unmarshal([]byte(ev.Raw), &got); err != nil {
		t.Errorf("%s: Raw is not JSON: %v", where, err)
	}
	eq("Raw", got, raw)
}
