package pgaudit

import (
	"reflect"
	"testing"
)

func TestParseAudit(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		want    Audit
		wantErr bool
	}{
		{name: "10 fields none", msg: "AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE auditor NOLOGIN;,<none>,0",
			want: Audit{AuditType: "SESSION", StatementID: 1, SubstatementID: 1, Class: "ROLE", Command: "CREATE ROLE", Statement: "CREATE ROLE auditor NOLOGIN;", HasRows: true}},
		{name: "9 fields bare integer parameter is not ROWS", msg: "AUDIT: SESSION,7,1,READ,SELECT,,,SELECT abalance FROM pgbench_accounts WHERE aid = $1;,85281",
			want: Audit{AuditType: "SESSION", StatementID: 7, SubstatementID: 1, Class: "READ", Command: "SELECT", Statement: "SELECT abalance FROM pgbench_accounts WHERE aid = $1;", Params: []string{"85281"}}},
		{name: "9 fields trailing comma is an empty parameter", msg: "AUDIT: SESSION,6,1,READ,SELECT,,,SELECT id FROM customers WHERE email = $1,",
			want: Audit{AuditType: "SESSION", StatementID: 6, SubstatementID: 1, Class: "READ", Command: "SELECT", Statement: "SELECT id FROM customers WHERE email = $1", Params: []string{""}}},
		{name: "10 fields empty parameter", msg: "AUDIT: SESSION,6,1,READ,SELECT,,,SELECT 1,,0",
			want: Audit{AuditType: "SESSION", StatementID: 6, SubstatementID: 1, Class: "READ", Command: "SELECT", Statement: "SELECT 1", Params: []string{""}, HasRows: true}},
		{name: "quoted statement with quoted user name", msg: `AUDIT: SESSION,5,1,ROLE,CREATE ROLE,,,"CREATE ROLE ""Weird, """"Quoted"""" User"" LOGIN;",<none>,0`,
			want: Audit{AuditType: "SESSION", StatementID: 5, SubstatementID: 1, Class: "ROLE", Command: "CREATE ROLE", Statement: `CREATE ROLE "Weird, ""Quoted"" User" LOGIN;`, HasRows: true}},
		{name: "nested parameter quoting", msg: `AUDIT: SESSION,1,1,WRITE,INSERT,,,"INSERT INTO customers (name, email, note) VALUES ($1, $2, $3) RETURNING id","""Lee, """"Bruce"""""",bruce@example.com,""it's a """"quoted"""", comma'd note""",1`,
			want: Audit{AuditType: "SESSION", StatementID: 1, SubstatementID: 1, Class: "WRITE", Command: "INSERT", Statement: "INSERT INTO customers (name, email, note) VALUES ($1, $2, $3) RETURNING id",
				Params: []string{`Lee, "Bruce"`, "bruce@example.com", `it's a "quoted", comma'd note`}, Rows: 1, HasRows: true}},
		{name: "newline and CR in parameter", msg: "AUDIT: SESSION,3,1,WRITE,UPDATE,,,UPDATE customers SET note = $1 WHERE id = $2,\"\"\"windows line\r\nending\"\",7\",1",
			want: Audit{AuditType: "SESSION", StatementID: 3, SubstatementID: 1, Class: "WRITE", Command: "UPDATE", Statement: "UPDATE customers SET note = $1 WHERE id = $2", Params: []string{"windows line\r\nending", "7"}, Rows: 1, HasRows: true}},
		{name: "nulls in parameter list", msg: `AUDIT: SESSION,3,2,WRITE,INSERT,,,x,"3,,,",1`,
			want: Audit{AuditType: "SESSION", StatementID: 3, SubstatementID: 2, Class: "WRITE", Command: "INSERT", Statement: "x", Params: []string{"3", "", "", ""}, Rows: 1, HasRows: true}},
		{name: "object record quoted identifier", msg: `AUDIT: OBJECT,6,1,READ,SELECT,TABLE,"public.""Notes, """"Quarterly"""" 2024""","SELECT body FROM ""Notes, """"Quarterly"""" 2024"" WHERE id = 1;",<none>,1`,
			want: Audit{AuditType: "OBJECT", StatementID: 6, SubstatementID: 1, Class: "READ", Command: "SELECT", ObjectType: "TABLE", ObjectName: `public."Notes, ""Quarterly"" 2024"`,
				Statement: `SELECT body FROM "Notes, ""Quarterly"" 2024" WHERE id = 1;`, Rows: 1, HasRows: true}},
		{name: "not logged", msg: "AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<not logged>",
			want: Audit{AuditType: "SESSION", StatementID: 1, SubstatementID: 1, Class: "READ", Command: "SELECT", Statement: "SELECT 1"}},
		{name: "markers that are values", msg: "AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT $1, $2\",\"<previously logged>,<long param suppressed>\"",
			want: Audit{AuditType: "SESSION", StatementID: 1, SubstatementID: 1, Class: "READ", Command: "SELECT", Statement: "SELECT $1, $2", Params: []string{"<previously logged>", "<long param suppressed>"}}},
		{name: "unicode unquoted", msg: "AUDIT: SESSION,7,1,READ,SELECT,,,SELECT 1,Zoë Dupont,%東京%",
			wantErr: true}, // 10 fields with a non-numeric ROWS: malformed
		{name: "8 fields", msg: "AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1", wantErr: true},
		{name: "11 fields", msg: "AUDIT: SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,0,9", wantErr: true},
		{name: "unterminated quote", msg: `AUDIT: SESSION,1,1,READ,SELECT,,,"SELECT 1,<none>,0`, wantErr: true},
		{name: "junk after quote", msg: `AUDIT: SESSION,1,1,READ,SELECT,,,"SELECT 1"x,<none>,0`, wantErr: true},
		{name: "bad type", msg: "AUDIT: SESSIONS,1,1,READ,SELECT,,,SELECT 1,<none>,0", wantErr: true},
		{name: "bad statement id", msg: "AUDIT: SESSION,x,1,READ,SELECT,,,SELECT 1,<none>,0", wantErr: true},
		{name: "no tag", msg: "SESSION,1,1,READ,SELECT,,,SELECT 1,<none>,0", wantErr: true},
		{name: "empty", msg: "AUDIT: ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAudit(tt.msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func FuzzParseAudit(f *testing.F) {
	for _, s := range corpusMessages(f, "AUDIT: ", 300) {
		f.Add(s)
	}
	f.Add(`AUDIT: SESSION,1,1,WRITE,INSERT,,,x,"""a,""""b"""""",c",1`)
	f.Add("AUDIT: SESSION,6,1,READ,SELECT,,,SELECT 1,")
	f.Fuzz(func(t *testing.T, msg string) {
		a, err := ParseAudit(msg)
		if err != nil {
			return
		}
		if a.AuditType != "SESSION" && a.AuditType != "OBJECT" {
			t.Fatalf("accepted type %q", a.AuditType)
		}
		if a.Params != nil && len(a.Params) == 0 {
			t.Fatalf("empty non-nil params for %q", msg)
		}
	})
}
