package das

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/auditlens/auditlens/store/model"
)

// innerRecord is the decrypted, gunzipped payload of one outer record.
type innerRecord struct {
	Type       flexString        `json:"type"`
	ClusterID  flexString        `json:"clusterId"`
	InstanceID flexString        `json:"instanceId"`
	Events     []json.RawMessage `json:"databaseActivityEventList"`
}

// wireEvent is one element of databaseActivityEventList. Every field is lenient:
// the stream sends numbers as strings, nulls anywhere and undocumented fields.
type wireEvent struct {
	Type              flexString  `json:"type"`
	StartTime         flexString  `json:"startTime"`
	LogTime           flexString  `json:"logTime"`
	EndTime           flexString  `json:"endTime"`
	StatementID       flexInt     `json:"statementId"`
	SubstatementID    flexInt     `json:"substatementId"`
	ObjectType        flexString  `json:"objectType"`
	Command           flexString  `json:"command"`
	ObjectName        flexString  `json:"objectName"`
	DatabaseName      flexString  `json:"databaseName"`
	DBUserName        flexString  `json:"dbUserName"`
	RemoteHost        flexString  `json:"remoteHost"`
	RemotePort        flexInt     `json:"remotePort"`
	SessionID         flexString  `json:"sessionId"`
	RowCount          flexInt     `json:"rowCount"`
	CommandText       flexString  `json:"commandText"`
	ParamList         flexStrings `json:"paramList"`
	PID               flexInt     `json:"pid"`
	ClientApplication flexString  `json:"clientApplication"`
	ExitCode          flexInt     `json:"exitCode"`
	Class             flexString  `json:"class"`
	ServerHost        flexString  `json:"serverHost"`
	ErrorMessage      flexString  `json:"errorMessage"`
}

// flexString accepts a JSON string, null (→ unset), or a number/bool (kept as its text).
type flexString struct {
	V     string
	Valid bool
}

func (s *flexString) UnmarshalJSON(b []byte) error {
	*s = flexString{}
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err == nil {
			*s = flexString{V: v, Valid: true}
		}
	case 'n':
		// null: unset
	case '{', '[':
		// An object or array where a string belongs: keep it out of the typed
		// columns; the event's Raw still has it.
	default:
		*s = flexString{V: string(b), Valid: true}
	}
	return nil
}

// flexInt accepts a JSON number, a string holding a number, or null. Anything
// else is treated as absent rather than failing the whole record.
type flexInt struct {
	V     int64
	Valid bool
}

func (n *flexInt) UnmarshalJSON(b []byte) error {
	*n = flexInt{}
	if len(b) == 0 {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		b = []byte(s)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = flexInt{V: v, Valid: true}
		return nil
	}
	// "12.0" or 1e3: accept integral floats.
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == float64(int64(f)) {
		*n = flexInt{V: int64(f), Valid: true}
	}
	return nil
}

func (n flexInt) ptr64() *int64 {
	if !n.Valid {
		return nil
	}
	return model.Int64(n.V)
}

func (n flexInt) ptr32() *int32 {
	if !n.Valid || n.V < -1<<31 || n.V > 1<<31-1 {
		return nil
	}
	return model.Int32(int32(n.V))
}

// flexStrings is paramList: an array of lenient strings, or null.
type flexStrings struct {
	V     []string
	Valid bool
}

func (l *flexStrings) UnmarshalJSON(b []byte) error {
	*l = flexStrings{}
	if len(b) == 0 || b[0] != '[' {
		return nil
	}
	var raw []flexString
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil
	}
	l.Valid = true
	if len(raw) == 0 {
		return nil
	}
	l.V = make([]string, len(raw))
	for i, s := range raw {
		l.V[i] = s.V
	}
	return nil
}

// isConnectCommand reports whether command is a connection row. rdsadmin's
// connections arrive with class MISC; the explorer keys on class CONNECT.
func isConnectCommand(command string) bool {
	return command == "CONNECT" || command == "DISCONNECT"
}

// eventTime picks the event's time: logTime, else endTime, else startTime.
func (e *wireEvent) eventTime() time.Time {
	for _, s := range []flexString{e.LogTime, e.EndTime, e.StartTime} {
		if !s.Valid {
			continue
		}
		if t, ok := parseTimestamp(s.V); ok {
			return t
		}
	}
	return time.Time{}
}
