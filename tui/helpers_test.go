package tui

import (
	"context"
	"regexp"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/auditlens/auditlens/store"
	rules "github.com/auditlens/auditlens/store/findings"
	"github.com/auditlens/auditlens/tui/internal/casefixture"
)

const fixtureRows = 500

func fixedNow() time.Time { return casefixture.T0().Add(3 * time.Hour) }

// noFindings is a rules engine that finds nothing, for tests of other pages:
// the case fixture's DROP TABLEs would open the findings page first.
type noFindings struct{}

func (noFindings) Findings(context.Context) ([]rules.Finding, []rules.RuleError, error) {
	return nil, nil, nil
}

// newModel opens the explorer on s at 120×40 without colors, in UTC, with no
// findings unless mod sets a rules engine (Options.Findings = nil runs the
// built-in rules).
func newModel(t *testing.T, s *store.Store, mod func(*Options)) Model {
	t.Helper()
	opts := Options{Store: s, UTC: true, NoColor: true, Now: fixedNow, Author: "tester", Findings: noFindings{}}
	if mod != nil {
		mod(&opts)
	}
	m, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	// The debounce is exercised by its own test; elsewhere it only slows typing.
	m.bar.Delay = time.Millisecond
	m.detail.Delay = 0
	return settle(t, m, tea.Batch(m.Init(), func() tea.Msg { return tea.WindowSizeMsg{Width: 120, Height: 40} }))
}

// settle runs cmd and every command its messages lead to, synchronously, and
// returns the model once nothing is left to do: the view is then final.
func settle(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	queue := []tea.Cmd{cmd}
	deadline := time.Now().Add(10 * time.Second)
	for len(queue) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("model did not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case nil:
			continue
		case tea.BatchMsg:
			queue = append(queue, msg...)
			continue
		case tea.QuitMsg:
			return m
		}
		next, c2 := m.Update(msg)
		m = next.(Model)
		queue = append(queue, c2)
	}
	return m
}

// press sends keys (each a key name like "enter" or one character) and settles.
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		next, cmd := m.Update(keyMsg(k))
		m = settle(t, next.(Model), cmd)
	}
	return m
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// typeText types s into the model one key at a time.
func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = press(t, m, string(r))
	}
	return m
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// assertTerminalSafe fails when the drawn screen holds anything a terminal
// would act on besides the style (SGR) sequences lipgloss writes itself.
func assertTerminalSafe(t *testing.T, screen string) {
	t.Helper()
	rest := sgr.ReplaceAllString(screen, "")
	for i, r := range rest {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd && false {
			t.Fatalf("control character %U at byte %d of the view: %q", r, i, rest[max(0, i-40):min(len(rest), i+40)])
		}
	}
}
