// Package findings owns the findings page: what the rules engine
// (store/findings) found in the case file, grouped by severity and rule, most
// severe first, with count, first and last time, users, databases and hosts;
// rules that failed are listed, not fatal. Enter asks the root to list the
// events behind a finding. The rules run in a background command.
//
// findings imports store/findings (types), common and sanitize; it must not
// import other tui components, ingest or AWS.
package findings

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	rules "github.com/auditlens/auditlens/store/findings"
	"github.com/auditlens/auditlens/tui/common"
	"github.com/auditlens/auditlens/tui/sanitize"
)

// Runner runs the rules over the case file. FromStore implements it with the
// built-in rules (and a user's rules file).
type Runner interface {
	Findings(ctx context.Context) ([]rules.Finding, []rules.RuleError, error)
}

// LoadedMsg carries a run of the rules. The root looks at it too: high
// findings at start-up open this page.
type LoadedMsg struct {
	gen      int
	Findings []rules.Finding
	Errors   []rules.RuleError
	Err      error
}

// OpenMsg asks the root to list the events behind a finding.
type OpenMsg struct{ Finding rules.Finding }

// Model is the findings page.
type Model struct {
	data          Runner
	ctx           context.Context
	gen           int
	loading       bool
	loaded        bool
	err           error
	findings      []rules.Finding
	ruleErrs      []rules.RuleError
	cur, top      int
	width, height int
}

// New returns an empty page; data may be nil (no rules engine here).
func New(ctx context.Context, data Runner) Model { return Model{data: data, ctx: ctx} }

// SetSize sets the page's cells.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, max(h, 4) }

// Len is the number of findings listed.
func (m Model) Len() int { return len(m.findings) }

// Loaded reports whether a run finished (or failed).
func (m Model) Loaded() bool { return m.loaded }

// Loading reports whether a run is under way.
func (m Model) Loading() bool { return m.loading }

// Selected is the finding under the cursor.
func (m Model) Selected() (rules.Finding, bool) {
	if m.cur < len(m.findings) {
		return m.findings[m.cur], true
	}
	return rules.Finding{}, false
}

// Load runs the rules in the background.
func (m *Model) Load() tea.Cmd {
	if m.data == nil {
		return nil
	}
	m.gen++
	m.loading = true
	gen, ctx, data := m.gen, m.ctx, m.data
	return func() tea.Msg {
		fs, rerrs, err := data.Findings(ctx)
		return LoadedMsg{gen: gen, Findings: fs, Errors: rerrs, Err: err}
	}
}

// HasAtLeast reports whether a finding of severity s or higher was found.
func (m Model) HasAtLeast(s rules.Severity) bool { return rules.Highest(m.findings).AtLeast(s) }

// Update handles the run's result and keys.
func (m Model) Update(c common.Context, msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case LoadedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.loading, m.loaded, m.err = false, true, msg.Err
		if msg.Err == nil {
			// Run sorts by severity, rule and time: the groups are contiguous.
			m.findings, m.ruleErrs = msg.Findings, msg.Errors
			m.cur = min(m.cur, max(len(m.findings)-1, 0))
			m.scroll()
		}
	case tea.KeyPressMsg:
		k := c.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.move(-1)
		case key.Matches(msg, k.Down):
			m.move(1)
		case key.Matches(msg, k.PageUp):
			m.move(-m.listHeight() / 2)
		case key.Matches(msg, k.PageDown):
			m.move(m.listHeight() / 2)
		case key.Matches(msg, k.Home):
			m.move(-len(m.findings))
		case key.Matches(msg, k.End):
			m.move(len(m.findings))
		case key.Matches(msg, k.Open):
			if f, ok := m.Selected(); ok {
				return m, func() tea.Msg { return OpenMsg{Finding: f} }
			}
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.move(-3)
		} else if msg.Button == tea.MouseWheelDown {
			m.move(3)
		}
	}
	return m, nil
}

func (m *Model) move(d int) {
	m.cur = min(max(m.cur+d, 0), max(len(m.findings)-1, 0))
	m.scroll()
}

// listHeight is the lines left for groups and findings: the header, the
// selected finding's description (2) and the rule errors take the rest.
func (m Model) listHeight() int {
	h := m.height - 1 - 3
	if n := len(m.ruleErrs); n > 0 {
		h -= min(n, 4) + 2
	}
	return max(h, 2)
}

// line is one drawn line of the list: a group title or a finding.
type line struct {
	finding int // -1 for a group title
	text    string
}

// layout lays out every group and finding; a group title precedes the
// first finding of each (severity, rule).
func (m Model) layout(c common.Context) []line {
	var out []line
	for i, f := range m.findings {
		if i == 0 || f.RuleID != m.findings[i-1].RuleID || f.Severity != m.findings[i-1].Severity {
			n, occ := 0, int64(0)
			for _, g := range m.findings[i:] {
				if g.RuleID != f.RuleID || g.Severity != f.Severity {
					break
				}
				n, occ = n+1, occ+g.Count
			}
			out = append(out, line{finding: -1, text: fmt.Sprintf("%-8s %s — %s  (%s, %s)",
				strings.ToUpper(string(f.Severity)), sanitize.LineOf(f.RuleID), sanitize.LineOf(f.Title), plural(n, "finding"), plural(int(occ), "occurrence"))})
		}
		out = append(out, line{finding: i, text: m.row(c, f)})
	}
	return out
}

func (m Model) row(c common.Context, f rules.Finding) string {
	list := func(vals []string) string {
		if len(vals) == 0 {
			return "—"
		}
		return sanitize.LineOf(strings.Join(vals, ","))
	}
	return fmt.Sprintf("   %s %6d  %s  %s  %s %s %s",
		common.Fit(sanitize.LineOf(f.Key), 26), f.Count, common.Fit(c.FormatTime(f.First), 19), common.Fit(c.FormatTime(f.Last), 19),
		common.Fit(list(f.Users), 12), common.Fit(list(f.Databases), 10), list(f.Hosts))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// scroll keeps the selected finding's line, and its group title when the
// finding opens a group, in view.
func (m *Model) scroll() {
	// The line index of a finding is its index plus the group titles before
	// and at it; the width does not matter for counting lines.
	at := m.cur
	for i := 0; i <= m.cur && i < len(m.findings); i++ {
		if i == 0 || m.findings[i].RuleID != m.findings[i-1].RuleID || m.findings[i].Severity != m.findings[i-1].Severity {
			at++
		}
	}
	v := m.listHeight()
	if at-1 < m.top {
		m.top = max(at-1, 0)
	}
	if at >= m.top+v {
		m.top = at - v + 1
	}
}

// View draws the page in exactly width×height cells.
func (m Model) View(c common.Context) string {
	t := c.Theme
	head := fmt.Sprintf("   %-26s %6s  %-19s  %-19s  %-12s %-10s %s", "finding", "count", "first", "last", "users", "databases", "hosts")
	out := []string{t.TableHead.Render(common.Fit(head, m.width))}
	switch {
	case m.data == nil:
		out = append(out, t.Dim.Render("findings are not available for this case file"))
	case m.err != nil:
		out = append(out, t.Error.Render("findings: "+sanitize.LineOf(m.err.Error())))
	case !m.loaded:
		out = append(out, t.Dim.Render("running the rules…"))
	case len(m.findings) == 0:
		out = append(out, t.OK.Render("no findings: no rule matched anything in this case file"))
	}
	lines := m.layout(c)
	v := m.listHeight()
	for i := m.top; i < len(lines) && i < m.top+v; i++ {
		l := lines[i]
		switch {
		case l.finding < 0:
			st := t.Title
			if sev := m.findings[lines[i+1].finding].Severity; sev.AtLeast(rules.High) {
				st = t.Error
			}
			out = append(out, st.Render(common.Fit(l.text, m.width)))
		case l.finding == m.cur:
			out = append(out, t.RowSelected.Render(common.Fit(l.text, m.width)))
		default:
			out = append(out, t.Row.Render(common.Fit(l.text, m.width)))
		}
	}
	body := common.Block(strings.Join(out, "\n"), m.width, 1+v)
	var foot []string
	if f, ok := m.Selected(); ok {
		desc := sanitize.LineOf(f.Description)
		if f.Detail != "" {
			desc = sanitize.LineOf(f.Detail) + " · " + desc
		}
		more := fmt.Sprintf("%d records", f.Records)
		if f.Truncated() {
			more += fmt.Sprintf(", the first %d listed", len(f.EventIDs))
		}
		foot = append(foot, t.Dim.Render(common.Fit(strings.Repeat("─", 3)+" "+more+" · enter lists them in the events view", m.width)),
			common.Fit(desc, m.width))
	}
	if len(m.ruleErrs) > 0 {
		foot = append(foot, "", t.Error.Render(fmt.Sprintf("%d rules could not run (the others did):", len(m.ruleErrs))))
		for i, e := range m.ruleErrs {
			if i == 4 {
				break
			}
			foot = append(foot, t.Error.Render(common.Fit(fmt.Sprintf("  %s (%s): %s", sanitize.LineOf(e.RuleID), sanitize.LineOf(e.Origin), sanitize.LineOf(e.Err.Error())), m.width)))
		}
	}
	return common.Block(body+"\n"+common.Block(strings.Join(foot, "\n"), m.width, m.height-1-v), m.width, m.height)
}
