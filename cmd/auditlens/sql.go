package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditlens/auditlens/internal/textsafe"
)

func (a *app) sqlCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "sql [--format table|csv|json|jsonl] \"SELECT …\"",
		Short: "Run a read-only SQL query against the case file",
		Long: `Run one read-only SQL statement (SELECT, EXPLAIN, DESCRIBE, SUMMARIZE) against the case
file and print the result. The public view is audit_events; other tables are sources,
objects, sync_runs, heartbeats, server_messages, rejects and notes. Statements that would
write (to the case file or anywhere else) are refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			w, err := newRowWriter(a.stdout, format)
			if err != nil {
				return err
			}
			if err := st.QueryReadOnly(cmd.Context(), args[0], w.write); err != nil {
				return err
			}
			return w.flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json or jsonl")
	return cmd
}

// rowWriter prints query results for scripts (csv, json, jsonl) or people (table).
type rowWriter struct {
	format string
	out    io.Writer
	tw     *tabwriter.Writer
	cw     *csv.Writer
	rows   []map[string]any
	cols   []string
}

func newRowWriter(out io.Writer, format string) (*rowWriter, error) {
	w := &rowWriter{format: format, out: out}
	switch format {
	case "table":
		w.tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	case "csv":
		w.cw = csv.NewWriter(out)
	case "json", "jsonl":
	default:
		return nil, usageError("unknown --format %q: use table, csv, json or jsonl", format)
	}
	return w, nil
}

func (w *rowWriter) write(cols []string, row []any) error {
	if row == nil {
		w.cols = cols
		switch w.format {
		case "table":
			fmt.Fprintln(w.tw, strings.Join(cols, "\t"))
		case "csv":
			return w.cw.Write(cols)
		}
		return nil
	}
	switch w.format {
	case "table":
		cells := make([]string, len(row))
		for i, v := range row {
			// A terminal is the reader: nothing from the case file may steer it.
			cells[i] = textsafe.Line(cellString(v), 80)
		}
		fmt.Fprintln(w.tw, strings.Join(cells, "\t"))
	case "csv":
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = cellString(v)
		}
		return w.cw.Write(cells)
	case "json", "jsonl":
		m := make(map[string]any, len(row))
		for i, v := range row {
			m[w.cols[i]] = jsonValue(v)
		}
		if w.format == "jsonl" {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w.out, "%s\n", b)
			return err
		}
		w.rows = append(w.rows, m)
	}
	return nil
}

func (w *rowWriter) flush() error {
	switch w.format {
	case "table":
		return w.tw.Flush()
	case "csv":
		w.cw.Flush()
		return w.cw.Error()
	case "json":
		if w.rows == nil {
			w.rows = []map[string]any{}
		}
		enc := json.NewEncoder(w.out)
		enc.SetIndent("", "  ")
		return enc.Encode(w.rows)
	}
	return nil
}

func cellString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return fmt.Sprintf("%x", x)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = cellString(p)
		}
		b, _ := json.Marshal(parts)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return fmt.Sprintf("%x", x)
	default:
		return x
	}
}
